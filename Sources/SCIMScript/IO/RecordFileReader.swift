import Foundation
import SCIMCore

/// Reads records from a CSV, JSON or JSON Lines file, one at a time.
///
/// CSV and JSON Lines stream in 64 KiB chunks; a JSON file (an array of objects, a single object, or a SCIM
/// ListResponse whose `Resources` are the records) is read whole. A UTF-8 byte order mark is skipped. Problems are
/// ``RecordFileError``s with the line; problems with the file as a whole (cannot be opened, a bad CSV header, JSON
/// that does not parse) are thrown by the initializer, problems with one record by ``next()``, after which reading
/// goes on with the following record.
///
/// CSV: RFC 4180 (quoted fields may span lines, `""` is a quote, CRLF or LF); the header row gives the keys, trimmed
/// of spaces, and a dotted header (`name.familyName`) builds nested objects; values stay strings; empty cells are
/// left out, and rows whose cells are all empty are skipped, as are blank lines.
public final class RecordFileReader {
    /// The file's path, as given.
    public let path: String
    /// The format read.
    public let format: RecordFileFormat

    private let source: ByteSource
    private var finished = false
    // CSV
    private var header: [String] = []
    private var headerIsPath: [Bool] = []
    private var line = 1
    // JSON
    private var items: [(value: JSONValue, line: Int?, label: String)] = []
    /// A top-level array's text and its elements, parsed one at a time by ``next()``.
    private var arrayBytes: [UInt8] = []
    private var arrayElements: [(range: Range<Int>, line: Int)] = []
    private var itemIndex = 0
    // JSON Lines
    private var lineBuffer: [UInt8] = []
    private var sawContent = false

    /// Opens `path` in `format` (by default from the extension) and, for CSV, reads the header; for JSON, the
    /// whole file.
    public init(path: String, format: RecordFileFormat? = nil) throws(RecordFileError) {
        guard let format = format ?? RecordFileFormat(path: path) else {
            throw RecordFileError(path: path, message: RecordFileFormat.unknownFormatMessage)
        }
        let file: FileHandle
        do {
            // A directory fails here too ("Is a directory").
            file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw RecordFileError(path: path, message: "cannot read: \(FileAccess.reason(error))")
        }
        self.path = path
        self.format = format
        self.source = ByteSource(path: path, file: file)
        do throws(RecordFileError) {
            let head = try source.lookahead(4)
            if head.starts(with: [0xEF, 0xBB, 0xBF]) {
                try source.skip(3)
            } else if let problem = TextBytes.sniffProblem(head, format: format) {
                throw error(nil, problem)
            }
            switch format {
            case .csv: try readHeader()
            case .json: try loadJSON()
            case .jsonl: break
            }
        } catch {
            source.close()
            throw error
        }
    }

    deinit { source.close() }

    /// The next record; `nil` at the end of the file (and after ``close()``).
    public func next() throws(RecordFileError) -> Record? {
        guard !finished else { return nil }
        switch format {
        case .csv: return try nextCSV()
        case .json: return try nextJSON()
        case .jsonl: return try nextJSONLine()
        }
    }

    /// Closes the file; later calls to ``next()`` return `nil`.
    public func close() {
        finished = true
        source.close()
    }

    private func error(_ line: Int?, _ message: String) -> RecordFileError {
        RecordFileError(path: path, line: line, message: message)
    }

    // MARK: - CSV

    /// The most dotted parts a column name may have (`a.b.c` has 3), so a hostile header cannot nest deeply.
    private static let maxPathParts = 16
    private static let quote: UInt8 = 0x22
    private static let comma: UInt8 = 0x2C
    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D

    /// One CSV row as raw bytes: its fields, the line each field starts on, and the line the row starts on.
    private struct Row {
        var fields: [[UInt8]] = []
        var fieldLines: [Int] = []
        var line: Int
    }

    private func readHeader() throws(RecordFileError) {
        if let first = try source.peek(), first == UInt8(ascii: "[") || first == UInt8(ascii: "{") {
            throw error(1, "the file holds JSON, not CSV; name it .json or .jsonl")
        }
        guard let row = try readRow() else {
            throw error(nil, "the file is empty; expected a header row")
        }
        var names: [String] = []
        var seen: [String: Int] = [:]
        for (i, raw) in row.fields.enumerated() {
            guard let name = String(validating: raw, as: UTF8.self)?.trimmedSpaces else {
                throw error(row.fieldLines[i], "invalid UTF-8 in the header; save the file as UTF-8")
            }
            if name.isEmpty {
                throw error(row.line, "empty column name in the header (column \(i + 1))")
            }
            let parts = name.split(separator: ".", omittingEmptySubsequences: false)
            if parts.contains(where: \.isEmpty) || parts.count > Self.maxPathParts {
                let shown = TextWidth.truncate(OneLine.clean(name), to: 60)
                throw error(row.line, "invalid column name '\(shown)' in the header (column \(i + 1))")
            }
            if let earlier = seen[name.lowercased()] {
                throw error(
                    row.line,
                    "duplicate column '\(OneLine.clean(name))' in the header (columns \(earlier + 1) and \(i + 1))"
                )
            }
            seen[name.lowercased()] = i
            names.append(name)
        }
        for (i, a) in names.enumerated() {
            let prefix = a.lowercased() + "."
            if let j = names.firstIndex(where: { $0.lowercased().hasPrefix(prefix) }) {
                throw error(
                    row.line,
                    "column '\(OneLine.clean(a))' conflicts with '\(OneLine.clean(names[j]))' in the header "
                        + "(columns \(i + 1) and \(j + 1))"
                )
            }
        }
        header = names
        headerIsPath = names.map { $0.contains(".") }
    }

    private func nextCSV() throws(RecordFileError) -> Record? {
        while let row = try readRow() {
            guard row.fields.count == header.count else {
                let noun = header.count == 1 ? "field" : "fields"
                throw error(row.line, "expected \(header.count) \(noun), found \(row.fields.count)")
            }
            var record = Record()
            for (i, raw) in row.fields.enumerated() where !raw.isEmpty {
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw error(
                        row.fieldLines[i],
                        "invalid UTF-8 in column '\(OneLine.clean(header[i]))'; save the file as UTF-8"
                    )
                }
                let value = JSONValue.string(text)
                if headerIsPath[i] {
                    record.setValue(value, atPath: header[i])
                } else {
                    record[header[i]] = value
                }
            }
            if !record.isEmpty { return record }
        }
        return nil
    }

    /// Reads the next row, skipping blank lines; `nil` at the end of the file.
    private func readRow() throws(RecordFileError) -> Row? {
        let quote = Self.quote
        let comma = Self.comma
        let lf = Self.lf
        let cr = Self.cr
        while let b = try source.peek(), b == lf || b == cr {
            source.advance()
            if b == lf {
                line += 1
            } else if try source.peek() != lf {
                line += 1
            }
        }
        guard try source.peek() != nil else { return nil }
        var row = Row(line: line)
        while true {
            var field: [UInt8] = []
            let fieldLine = line
            if try source.peek() == quote {
                source.advance()
                while true {
                    guard try source.appendQuoted(into: &field, lines: &line) else {
                        finished = true
                        let endLine = field.last == lf ? max(1, line - 1) : line
                        throw error(endLine, "unterminated quoted field started on line \(fieldLine)")
                    }
                    // A doubled quote is a quote inside the field; a single one ends it.
                    guard try source.peek() == quote else { break }
                    source.advance()
                    field.append(quote)
                }
                if let after = try source.peek(), after != comma, after != lf, after != cr {
                    let errorLine = line
                    try skipRestOfLine()
                    throw error(errorLine, "unexpected text after the closing quote of a quoted field")
                }
            } else {
                _ = try source.appendUnquoted(into: &field)
            }
            row.fields.append(field)
            row.fieldLines.append(fieldLine)
            guard let delimiter = try source.next() else { return row }
            if delimiter == comma { continue }
            if delimiter == cr, try source.peek() == lf { source.advance() }
            line += 1
            return row
        }
    }

    /// Skips to the start of the next line, after an error in a row.
    private func skipRestOfLine() throws(RecordFileError) {
        while let b = try source.next() {
            if b == Self.lf {
                line += 1
                return
            }
        }
    }

    // MARK: - JSON

    private func loadJSON() throws(RecordFileError) {
        let bytes = try source.readAll()
        source.close()
        guard let start = bytes.firstIndex(where: { !TextBytes.isWhitespace($0) }) else {
            throw error(nil, "the file is empty; expected a JSON array of objects")
        }
        if bytes[start] == UInt8(ascii: "["), let elements = Self.arrayElements(bytes) {
            // A top-level array is parsed an element at a time, each when it is read: the whole array as values
            // took 27 times the file's size (a 71 MB file, 1.9 GB). Every element is parsed once here first, so
            // JSON that does not parse still fails before the first record is passed on.
            if elements.allSatisfy({ (try? JSONParser.parse(bytes[$0.range])) != nil }) {
                arrayBytes = bytes
                arrayElements = elements
                return
            }
        }
        let value: JSONValue
        do throws(JSONParseError) {
            value = try JSONParser.parse(bytes)
        } catch {
            if error.isInvalidUTF8 {
                let line = TextBytes.line(ofOffset: error.offset, in: bytes)
                throw self.error(line, "invalid UTF-8; save the file as UTF-8")
            }
            let first = bytes[start]
            if first != UInt8(ascii: "[") && first != UInt8(ascii: "{") {
                let snippet = TextBytes.snippet(bytes[start...])
                let hint = snippet.contains(",") ? " (is it a CSV file?)" : ""
                throw self.error(
                    TextBytes.line(ofOffset: start, in: bytes),
                    "the file does not hold JSON: it starts with '\(snippet)'\(hint)"
                )
            }
            var message =
                "invalid JSON: \(error.message) (column \(TextBytes.column(ofOffset: error.offset, in: bytes)))"
            if first == UInt8(ascii: "{"), error.message == "unexpected text after the JSON value" {
                message += "; one object per line is JSON Lines: name the file .jsonl"
            }
            throw self.error(TextBytes.line(ofOffset: error.offset, in: bytes), message)
        }
        switch value {
        case .array(let elements):
            let lines = Self.arrayElements(bytes)?.map(\.line) ?? []
            for (i, element) in elements.enumerated() {
                items.append((element, i < lines.count ? lines[i] : nil, ""))
            }
        case .object(let object):
            if let resources = Self.listResources(object) {
                for (i, element) in resources.enumerated() {
                    items.append((element, nil, "Resources[\(i)]: "))
                }
            } else {
                items.append((value, TextBytes.line(ofOffset: start, in: bytes), ""))
            }
        default:
            throw error(
                TextBytes.line(ofOffset: start, in: bytes),
                "expected a JSON array of objects, found \(TextBytes.kind(value))"
            )
        }
    }

    private func nextJSON() throws(RecordFileError) -> Record? {
        if !arrayElements.isEmpty {
            guard itemIndex < arrayElements.count else {
                arrayBytes = []
                return nil
            }
            let element = arrayElements[itemIndex]
            itemIndex += 1
            let value: JSONValue
            do throws(JSONParseError) {
                value = try JSONParser.parse(arrayBytes[element.range])
            } catch {
                throw self.error(element.line, "invalid JSON: \(error.message)")
            }
            guard case .object(let object) = value else {
                throw self.error(element.line, "expected a JSON object, found \(TextBytes.kind(value))")
            }
            return object
        }
        guard itemIndex < items.count else { return nil }
        let item = items[itemIndex]
        itemIndex += 1
        guard case .object(let object) = item.value else {
            throw error(item.line, "\(item.label)expected a JSON object, found \(TextBytes.kind(item.value))")
        }
        return object
    }

    /// The `Resources` of a SCIM ListResponse: an object with a `Resources` array and the ListResponse schema or a
    /// `totalResults`.
    private static func listResources(_ object: JSONObject) -> [JSONValue]? {
        guard let resources = object["Resources"]?.arrayValue else { return nil }
        let isListSchema =
            object["schemas"]?.arrayValue?.contains {
                $0.stringValue == "urn:ietf:params:scim:api:messages:2.0:ListResponse"
            } ?? false
        return isListSchema || object["totalResults"] != nil ? resources : nil
    }

    /// The byte range and line of each element of the top-level array `bytes` holds, found without parsing; `nil`
    /// when the text around the elements is not that of one array (the whole parse then says what is wrong). An
    /// element range may still not parse (two values without a comma, an empty element).
    private static func arrayElements(_ bytes: [UInt8]) -> [(range: Range<Int>, line: Int)]? {
        var elements: [(range: Range<Int>, line: Int)] = []
        var line = 1
        var depth = 0
        var inString = false
        var escaped = false
        var elementStart: Int?
        var elementLine = 1
        var lastContent = 0
        var closed = false
        var afterComma = false
        for (i, b) in bytes.enumerated() {
            if b == lf { line += 1 }
            if inString {
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == quote {
                    inString = false
                }
                lastContent = i
                continue
            }
            if TextBytes.isWhitespace(b) { continue }
            if closed { return nil }
            if depth == 1, elementStart == nil, b != comma, b != UInt8(ascii: "]") {
                elementStart = i
                elementLine = line
                afterComma = false
            }
            switch b {
            case quote:
                inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 {
                    // `[1}` or `[,]`: not an array this scan can split; the whole parse reports the error.
                    if afterComma || b != UInt8(ascii: "]") { return nil }
                    if let s = elementStart {
                        guard s <= lastContent else { return nil }
                        elements.append((s..<(lastContent + 1), elementLine))
                    }
                    closed = true
                } else if depth < 0 {
                    return nil
                }
            case comma where depth == 1:
                guard let s = elementStart, s <= lastContent else { return nil }
                elements.append((s..<(lastContent + 1), elementLine))
                elementStart = nil
                afterComma = true
                continue
            default:
                break
            }
            lastContent = i
        }
        return closed ? elements : nil
    }

    // MARK: - JSON Lines

    private func nextJSONLine() throws(RecordFileError) -> Record? {
        while try source.readLine(into: &lineBuffer) {
            let lineNumber = line
            line += 1
            if lineBuffer.last == Self.cr { lineBuffer.removeLast() }
            guard let start = lineBuffer.firstIndex(where: { !TextBytes.isWhitespace($0) }) else { continue }
            let isFirst = !sawContent
            sawContent = true
            let value: JSONValue
            do throws(JSONParseError) {
                value = try JSONParser.parse(lineBuffer)
            } catch {
                if error.isInvalidUTF8 {
                    let column = TextBytes.column(ofOffset: error.offset, in: lineBuffer)
                    throw self.error(lineNumber, "invalid UTF-8 (column \(column)); save the file as UTF-8")
                }
                let first = lineBuffer[start]
                if isFirst, first != UInt8(ascii: "{"), first != UInt8(ascii: "[") {
                    let snippet = TextBytes.snippet(lineBuffer[start...])
                    let hint = snippet.contains(",") ? " (is it a CSV file?)" : ""
                    throw self.error(
                        lineNumber, "the file does not hold JSON Lines: it starts with '\(snippet)'\(hint)")
                }
                var message =
                    "invalid JSON: \(error.message) "
                    + "(column \(TextBytes.column(ofOffset: error.offset, in: lineBuffer)))"
                if isFirst, first == UInt8(ascii: "[") {
                    message += "; a JSON array belongs in a .json file"
                }
                throw self.error(lineNumber, message)
            }
            guard case .object(let object) = value else {
                var message = "expected a JSON object, found \(TextBytes.kind(value))"
                if isFirst, case .array = value { message += "; a JSON array belongs in a .json file" }
                throw error(lineNumber, message)
            }
            return object
        }
        return nil
    }
}
