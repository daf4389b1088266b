import SCIMCore

/// Prints every attribute of each record as a block of `key: value` lines, blocks separated by a blank line.
///
/// Nested objects are flattened with dotted keys (`meta.created`) and arrays with indexes (`emails[0].value`); the
/// values line up after the longest key of the block. Strings print without quotes, `null` as `null`, empty objects
/// and arrays as `{}` and `[]`, and an empty record as `{}`. Control characters are replaced as in the table.
struct ShowWriter: RecordWriter {
    private var count = 0

    mutating func write(_ record: Record) -> String {
        defer { count += 1 }
        var lines: [(key: String, value: String)] = []
        for member in record {
            Self.flatten(member.value, key: member.key, into: &lines)
        }
        var out = count == 0 ? "" : "\n"
        if lines.isEmpty { return out + "{}\n" }
        let keyWidth = lines.map { TextWidth.displayWidth($0.key) }.max() ?? 0
        for (key, value) in lines {
            out += OneLine.trimmingTrailingSpaces(TextWidth.pad(key + ":", to: keyWidth + 1) + " " + value) + "\n"
        }
        return out
    }

    mutating func finish() -> String { "" }

    /// Appends the lines for one value under `key`.
    static func flatten(_ value: JSONValue, key: String, into lines: inout [(key: String, value: String)]) {
        switch value {
        case .object(let object) where !object.isEmpty:
            for member in object {
                flatten(member.value, key: key + "." + member.key, into: &lines)
            }
        case .array(let items) where !items.isEmpty:
            for (i, item) in items.enumerated() {
                flatten(item, key: key + "[\(i)]", into: &lines)
            }
        case .null:
            lines.append((OneLine.clean(key), "null"))
        default:
            lines.append((OneLine.clean(key), OneLine.clean(value.displayString)))
        }
    }
}
