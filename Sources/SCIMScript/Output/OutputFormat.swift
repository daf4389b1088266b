import SCIMCore

/// The ways records can be printed: the values of the `output` session variable and the output stages.
public enum OutputFormat: String, Sendable, CaseIterable {
    /// Aligned columns with a header row (the default).
    case table
    /// A pretty-printed JSON array.
    case json
    /// One compact JSON object per line.
    case jsonl
    /// RFC 4180 comma-separated values with a header row.
    case csv
    /// Every attribute of each record, one `key: value` block per record.
    case show
}

/// Turns a stream of records into text, one record at a time.
///
/// Library code never prints: each call returns the text to append to the output as-is (possibly empty, when a
/// writer is still gathering records, as the table writer does for its first 100 to compute column widths).
public protocol RecordWriter {
    /// Takes the next record and returns the text that can be printed now.
    mutating func write(_ record: Record) -> String
    /// Ends the stream and returns the text still to print (buffered rows, a closing `]`).
    mutating func finish() -> String
}

/// Makes ``RecordWriter``s for each ``OutputFormat``.
public enum RecordWriters {
    /// The columns shown for user-like records (records with a `userName` or an `id`) when none are given.
    ///
    /// `email` is the value of the record's `email` attribute, else of its primary email, else of its first email.
    public static let defaultUserColumns = ["id", "userName", "displayName", "active", "email"]
    /// The columns shown for group records (with `members` or the Group schema, and no `userName`) when none are
    /// given; the
    /// `members` cell lists the members' display names (else ids).
    public static let defaultGroupColumns = ["id", "displayName", "externalId", "members"]

    /// How many records the table writer gathers before it fixes its column widths and starts printing.
    public static let tableBufferSize = 100

    /// The widest a table column gets (in terminal columns), except the last, which is never truncated.
    public static let tableMaxColumnWidth = 40

    /// A writer for `format`; `columns` (dotted paths such as `name.familyName`) choose the columns of `table` and
    /// `csv` and are ignored by the other formats; `color` bolds the table header with an ANSI escape.
    public static func make(_ format: OutputFormat, columns: [String]? = nil, color: Bool = false) -> any RecordWriter {
        switch format {
        case .table:
            return TableWriter(
                columns: columns,
                color: color,
                bufferSize: tableBufferSize,
                maxColumnWidth: tableMaxColumnWidth
            )
        case .json: return JSONArrayWriter()
        case .jsonl: return JSONLinesWriter()
        case .csv: return CSVWriter(columns: columns)
        case .show: return ShowWriter()
        }
    }
}

/// Column choice and cell values shared by the table and CSV writers.
enum RecordColumns {
    /// Whether a record looks like a SCIM user (has a `userName` or an `id`).
    static func isUserLike(_ record: Record) -> Bool {
        record["userName"] != nil || record["id"] != nil
    }

    /// The value of one column of a record: the attribute at the dotted path, and for `email` (when the record
    /// has no such attribute) the primary email's value, else the first email's value.
    static func value(of column: String, in record: Record) -> JSONValue? {
        if let v = record.value(atPath: column) { return v }
        if column.utf8.count == 5, column.lowercased() == "email" { return primaryEmail(of: record) }
        return nil
    }

    /// The primary email's value, else the first email's value.
    static func primaryEmail(of record: Record) -> JSONValue? {
        guard let emails = record["emails"]?.arrayValue else { return nil }
        if let primary = emails.first(where: { $0["primary"]?.boolValue == true }), let v = primary["value"] {
            return v
        }
        return emails.lazy.compactMap { $0["value"] }.first
    }

    /// The text of a cell: ``JSONValue/displayString`` (empty for a missing value or `null`).
    static func text(of column: String, in record: Record) -> String {
        if column == "members", let items = record["members"]?.arrayValue {
            return items.compactMap { $0["display"]?.stringValue ?? $0["value"]?.stringValue }.joined(separator: ", ")
        }
        return value(of: column, in: record)?.displayString ?? ""
    }

    /// The keys of all records, in first-seen order, without case-insensitive duplicates.
    static func unionOfKeys(_ records: [Record]) -> [String] {
        var seen = Set<String>()
        var keys: [String] = []
        for record in records {
            for key in record.keys where seen.insert(key.lowercased()).inserted {
                keys.append(key)
            }
        }
        return keys
    }
}

/// Makes text safe to show on one terminal line.
enum OneLine {
    /// Replaces line breaks with `⏎` (CRLF counts once), tabs with a space, other C0 controls with their Control
    /// Pictures (`␛` for ESC, so server data cannot send escape sequences to the terminal), DEL with `␡`, and C1
    /// controls with `�`.
    static func clean(_ s: String) -> String { clean(s, keepingLines: false) }

    /// ``clean(_:)``, but with `keepingLines` LF and tab stay as they are (text of several lines, see
    /// ``TerminalText``).
    static func clean(_ s: String, keepingLines: Bool) -> String {
        // Fast path: printable ASCII only.
        if s.isPrintableASCII { return s }
        var out = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in s.unicodeScalars {
            let v = scalar.value
            defer { previousWasCR = v == 0x0D }
            switch v {
            case 0x0A where keepingLines, 0x09 where keepingLines:
                out.append(scalar)
            case 0x0A:
                if !previousWasCR { out.append("⏎") }
            case 0x0D, 0x0B, 0x0C, 0x85, 0x2028, 0x2029:
                out.append("⏎")
            case 0x09:
                out.append(" ")
            case 0x00..<0x20:
                out.append(Unicode.Scalar(0x2400 + v) ?? "\u{FFFD}")
            case 0x7F:
                out.append("\u{2421}")
            case 0x80..<0xA0:
                out.append("\u{FFFD}")
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// The string without trailing spaces.
    static func trimmingTrailingSpaces(_ s: String) -> String {
        var end = s.utf8.endIndex
        let start = s.utf8.startIndex
        while end > start {
            let before = s.utf8.index(before: end)
            guard s.utf8[before] == 0x20 else { break }
            end = before
        }
        // Text without trailing spaces (most lines) is returned as it is, without a copy.
        return end == s.utf8.endIndex ? s : String(s[..<end])
    }
}

/// Makes text of several lines safe to write to a terminal: a server's data (an error's `detail`, a CSV cell, a
/// traced body) cannot send escape sequences that retitle the window, clear the screen or move the cursor.
public enum TerminalText {
    /// `text` with every control character but LF and tab shown as its Control Picture (`␛` for ESC, `␍` for CR),
    /// DEL as `␡` and C1 controls as `�` (see ``OneLine``). With `allowingColor`, the color sequences scimsh
    /// itself writes in messages (bold, red, magenta, reset) stay.
    public static func safe(_ text: String, allowingColor: Bool = false) -> String {
        guard allowingColor, text.contains("\u{1B}") else { return OneLine.clean(text, keepingLines: true) }
        var out = ""
        var rest = Substring(text)
        while let escape = rest.firstIndex(of: "\u{1B}") {
            out += OneLine.clean(String(rest[..<escape]), keepingLines: true)
            rest = rest[escape...]
            if let color = colors.first(where: { rest.hasPrefix($0) }) {
                out += color
                rest = rest.dropFirst(color.count)
            } else {
                out += "\u{241B}"
                rest = rest.dropFirst()
            }
        }
        return out + OneLine.clean(String(rest), keepingLines: true)
    }

    /// The color sequences of ``Diagnostic/render(color:)``.
    static let colors = ["\u{1B}[1m", "\u{1B}[1;31m", "\u{1B}[1;35m", "\u{1B}[0m"]
}
