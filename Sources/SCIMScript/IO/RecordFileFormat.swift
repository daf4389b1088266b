/// The file formats `import` reads and `save` writes.
public enum RecordFileFormat: String, Sendable {
    /// RFC 4180 CSV with a header row.
    case csv
    /// A JSON array of objects (reading also takes a single object or a SCIM ListResponse).
    case json
    /// JSON Lines: one JSON object per line.
    case jsonl

    /// The format named by a path's extension, case-insensitively (`.ndjson` is JSON Lines); `nil` for others.
    public init?(path: String) {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        switch name[name.index(after: dot)...].lowercased() {
        case "csv": self = .csv
        case "json": self = .json
        case "jsonl", "ndjson": self = .jsonl
        default: return nil
        }
    }

    /// The output format that writes this file format.
    var outputFormat: OutputFormat {
        switch self {
        case .csv: return .csv
        case .json: return .json
        case .jsonl: return .jsonl
        }
    }

    /// The message for a path whose extension names no format.
    static let unknownFormatMessage = "cannot tell the file format from the name; use .csv, .json or .jsonl"
}

/// A problem reading or writing a record file, with the file and (when known) the 1-based line.
///
/// Rendered like a compiler's message: `users.csv:3: expected 3 fields, found 4`.
public struct RecordFileError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The file's path, as it was given.
    public var path: String
    /// The 1-based line the problem is on; `nil` for problems with the file as a whole.
    public var line: Int?
    /// What went wrong, phrased for a person.
    public var message: String

    /// An error from its parts.
    public init(path: String, line: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    /// `path:line: message`, or `path: message` without a line.
    public var description: String {
        if let line { return "\(path):\(line): \(message)" }
        return "\(path): \(message)"
    }
}
