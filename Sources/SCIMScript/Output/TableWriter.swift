import SCIMCore

/// Prints records as aligned columns: a header row, a row of `-`, then one line per record.
///
/// Streaming with bounded memory: the first `bufferSize` records fix the columns and their widths; they are then
/// printed, and every later record is printed as it comes with the same widths (cells that are too wide end in `…`).
/// Columns are two spaces apart; a column is at most `maxColumnWidth` wide except the last, which is neither padded
/// nor truncated; lines carry no trailing spaces. The separator is ASCII `-`, which survives every terminal, font
/// and golden file. Zero records print nothing (the caller reports the count).
struct TableWriter: RecordWriter {
    let requestedColumns: [String]?
    let color: Bool
    let bufferSize: Int
    let maxColumnWidth: Int

    private var buffer: [Record] = []
    private var columns: [String] = []
    private var widths: [Int] = []
    private var started = false

    init(columns: [String]?, color: Bool, bufferSize: Int, maxColumnWidth: Int) {
        self.requestedColumns = columns
        self.color = color
        self.bufferSize = max(1, bufferSize)
        self.maxColumnWidth = max(1, maxColumnWidth)
    }

    mutating func write(_ record: Record) -> String {
        if started { return row(record) }
        buffer.append(record)
        return buffer.count >= bufferSize ? flush() : ""
    }

    mutating func finish() -> String {
        if started || buffer.isEmpty { return "" }
        return flush()
    }

    /// Fixes the columns and widths from the buffered records and prints the header and those records.
    private mutating func flush() -> String {
        started = true
        let records = buffer
        buffer = []
        columns = requestedColumns ?? Self.inferColumns(records)
        guard !columns.isEmpty else { return "" }
        let headers = columns.map(OneLine.clean)
        let cells = records.map { record in columns.map { OneLine.clean(RecordColumns.text(of: $0, in: record)) } }
        widths = headers.map(TextWidth.displayWidth)
        for row in cells {
            for (i, cell) in row.enumerated() {
                widths[i] = max(widths[i], TextWidth.displayWidth(cell))
            }
        }
        for i in widths.indices.dropLast() {
            widths[i] = min(widths[i], maxColumnWidth)
        }
        var out = line(headers)
        if color { out = "\u{1B}[1m" + out + "\u{1B}[0m" }
        out += "\n"
        out += line(widths.map { String(repeating: "-", count: $0) }) + "\n"
        for row in cells {
            out += line(row) + "\n"
        }
        return out
    }

    /// One printed line for a later record.
    private func row(_ record: Record) -> String {
        guard !columns.isEmpty else { return "" }
        var out = ""
        out.reserveCapacity(widths.reduce(2 * widths.count, +) + 16)
        for (i, column) in columns.enumerated() {
            appendCell(
                OneLine.clean(RecordColumns.text(of: column, in: record)), column: i, cells: columns.count, to: &out)
        }
        return out + "\n"
    }

    /// The cells padded to their columns and two spaces apart, without trailing spaces.
    private func line(_ cells: [String]) -> String {
        var out = ""
        for (i, cell) in cells.enumerated() { appendCell(cell, column: i, cells: cells.count, to: &out) }
        return out
    }

    /// Appends one cell of a line: every cell but the last is cut and padded to its column's width and followed
    /// by two spaces. The line never ends in spaces. Rows are built in one string, as this runs for every
    /// record a table prints (pieces joined and trimmed afterwards cost about five strings per row).
    private func appendCell(_ cell: String, column i: Int, cells: Int, to out: inout String) {
        if i == cells - 1 {
            out += cell
            out = OneLine.trimmingTrailingSpaces(out)
        } else {
            let shown = TextWidth.truncate(cell, to: widths[i])
            out += shown
            let padding = widths[i] - TextWidth.displayWidth(shown) + 2
            if padding > 0 { out += TableWriter.spaces(padding) }
        }
    }

    /// `n` spaces (made once for the usual widths).
    static func spaces(_ n: Int) -> String {
        n < spaceStrings.count ? spaceStrings[n] : String(repeating: " ", count: n)
    }

    static let spaceStrings = (0..<64).map { String(repeating: " ", count: $0) }

    /// The default user columns when the first record is user-like, else every key in first-seen order.
    static func inferColumns(_ records: [Record]) -> [String] {
        guard let first = records.first else { return [] }
        let isGroup =
            first["members"] != nil
            || (first["schemas"]?.arrayValue ?? []).contains { $0.stringValue == SCIMSchema.group }
        if isGroup, first["userName"] == nil { return RecordWriters.defaultGroupColumns }
        if RecordColumns.isUserLike(first) { return RecordWriters.defaultUserColumns }
        return RecordColumns.unionOfKeys(records)
    }
}
