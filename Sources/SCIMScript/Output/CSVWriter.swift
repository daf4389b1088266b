import SCIMCore

/// Prints records as RFC 4180 CSV with a header row and LF line endings.
///
/// The columns are the given ones, else ``RecordWriters/defaultUserColumns`` when the first record is user-like,
/// else the keys of the first record (keys that only later records have are not printed). Cells are
/// ``JSONValue/displayString``: strings as they are, nested values as compact JSON, `null` empty.
///
/// Values starting with `=`, `+`, `-` or `@` are written as they are: prefixing them against spreadsheet formula
/// injection would change the data and break `save` then `import` round trips.
struct CSVWriter: RecordWriter {
    let requestedColumns: [String]?
    private var columns: [String]?

    init(columns: [String]?) {
        self.requestedColumns = columns
    }

    mutating func write(_ record: Record) -> String {
        var out = ""
        let columns: [String]
        if let known = self.columns {
            columns = known
        } else {
            columns = requestedColumns ?? Self.inferColumns(record)
            self.columns = columns
            out += CSV.line(columns)
        }
        out += CSV.line(columns.map { RecordColumns.text(of: $0, in: record) })
        return out
    }

    mutating func finish() -> String {
        // With zero records, print the header when the columns are known.
        guard columns == nil, let requestedColumns else { return "" }
        columns = requestedColumns
        return CSV.line(requestedColumns)
    }

    /// The default user columns when the record is user-like, else its keys.
    static func inferColumns(_ record: Record) -> [String] {
        RecordColumns.isUserLike(record) ? RecordWriters.defaultUserColumns : record.keys
    }
}

/// RFC 4180 field quoting, shared by the CSV writer and the CSV file writer.
enum CSV {
    /// One CSV line (ending in LF) from its fields.
    static func line(_ fields: [String]) -> String {
        if fields.count == 1, let only = fields.first, only.isEmpty {
            // A lone empty field would be a blank line, which readers skip.
            return "\"\"\n"
        }
        return fields.map(field).joined(separator: ",") + "\n"
    }

    /// A field, quoted when it holds `,`, `"`, CR or LF or starts or ends with a space or tab; `"` doubled.
    static func field(_ s: String) -> String {
        guard needsQuotes(s) else { return s }
        var out = "\""
        for character in s {
            if character == "\"" { out += "\"\"" } else { out.append(character) }
        }
        out += "\""
        return out
    }

    /// Whether a field must be quoted.
    static func needsQuotes(_ s: String) -> Bool {
        let utf8 = s.utf8
        guard let first = utf8.first, let last = utf8.last else { return false }
        if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return true }
        return utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
    }
}
