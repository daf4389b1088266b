import Foundation
import SCIMCore

/// Reads a file in 64 KiB chunks and hands out bytes and lines, so large files stream.
final class ByteSource {
    /// The path errors are reported under.
    let path: String
    private var file: FileHandle?
    private let chunkSize: Int
    private var buffer: [UInt8] = []
    private var position = 0
    private var end = 0
    private var reachedEnd = false

    /// A source over an open file, which it now owns.
    init(path: String, file: FileHandle, chunkSize: Int = 64 * 1024) {
        self.path = path
        self.file = file
        self.chunkSize = max(16, chunkSize)
    }

    deinit { close() }

    /// The next byte without consuming it; `nil` at end of file.
    @inline(__always)
    func peek() throws(RecordFileError) -> UInt8? {
        if position == end {
            guard try refill() else { return nil }
        }
        return buffer[position]
    }

    /// Consumes and returns the next byte; `nil` at end of file.
    @inline(__always)
    func next() throws(RecordFileError) -> UInt8? {
        if position == end {
            guard try refill() else { return nil }
        }
        let b = buffer[position]
        position += 1
        return b
    }

    /// Consumes the byte last peeked.
    @inline(__always)
    func advance() {
        if position < end { position += 1 }
    }

    /// Up to `count` bytes from the current position, without consuming them (what the first read gives).
    func lookahead(_ count: Int) throws(RecordFileError) -> [UInt8] {
        if position == end {
            guard try refill() else { return [] }
        }
        return Array(buffer[position..<min(end, position + count)])
    }

    /// Consumes up to `count` bytes.
    func skip(_ count: Int) throws(RecordFileError) {
        for _ in 0..<count where try next() != nil {}
    }

    /// Appends bytes to `field` up to (not including) the next `,`, CR or LF, and returns that byte; `nil` at end
    /// of file. The unquoted-field loop of the CSV reader, scanning whole chunks at a time.
    func appendUnquoted(into field: inout [UInt8]) throws(RecordFileError) -> UInt8? {
        while true {
            if position == end {
                guard try refill() else { return nil }
            }
            let stop = buffer.withUnsafeBufferPointer { buf -> Int in
                var i = position
                while i < end {
                    let b = buf[i]
                    if b == 0x2C || b == 0x0A || b == 0x0D { break }
                    i += 1
                }
                return i
            }
            if stop > position { field.append(contentsOf: buffer[position..<stop]) }
            position = stop
            if stop < end { return buffer[stop] }
        }
    }

    /// Appends bytes to `field` up to the next `"`, which it consumes, adding the LFs it appends to `lines`;
    /// `false` when the file ends first. The quoted-field loop of the CSV reader.
    func appendQuoted(into field: inout [UInt8], lines: inout Int) throws(RecordFileError) -> Bool {
        while true {
            if position == end {
                guard try refill() else { return false }
            }
            var newlines = 0
            let stop = buffer.withUnsafeBufferPointer { buf -> Int in
                var i = position
                while i < end {
                    let b = buf[i]
                    if b == 0x22 { break }
                    if b == 0x0A { newlines += 1 }
                    i += 1
                }
                return i
            }
            lines += newlines
            if stop > position { field.append(contentsOf: buffer[position..<stop]) }
            position = stop
            if stop < end {
                position += 1
                return true
            }
        }
    }

    /// Reads the next line (without its LF) into `line`; `false` at end of file with nothing read.
    func readLine(into line: inout [UInt8]) throws(RecordFileError) -> Bool {
        line.removeAll(keepingCapacity: true)
        while true {
            if position == end {
                guard try refill() else { return !line.isEmpty }
            }
            if let newline = buffer[position..<end].firstIndex(of: 0x0A) {
                line.append(contentsOf: buffer[position..<newline])
                position = newline + 1
                return true
            }
            line.append(contentsOf: buffer[position..<end])
            position = end
        }
    }

    /// Reads everything that is left.
    func readAll() throws(RecordFileError) -> [UInt8] {
        var all: [UInt8] = []
        while true {
            if position == end {
                guard try refill() else { return all }
            }
            all.append(contentsOf: buffer[position..<end])
            position = end
        }
    }

    /// Closes the file; later reads see end of file.
    func close() {
        try? file?.close()
        file = nil
        reachedEnd = true
        position = 0
        end = 0
    }

    private func refill() throws(RecordFileError) -> Bool {
        guard !reachedEnd, let file else { return false }
        let chunk: Data?
        do {
            chunk = try file.read(upToCount: chunkSize)
        } catch {
            reachedEnd = true
            throw RecordFileError(path: path, message: "cannot read: \(FileAccess.reason(error))")
        }
        guard let chunk, !chunk.isEmpty else {
            reachedEnd = true
            return false
        }
        buffer = [UInt8](chunk)
        position = 0
        end = buffer.count
        return true
    }
}

/// Byte-level helpers for checking and describing file text.
enum TextBytes {
    /// The 1-based line of a byte offset.
    static func line(ofOffset offset: Int, in bytes: [UInt8]) -> Int {
        var line = 1
        for b in bytes[0..<min(max(0, offset), bytes.count)] where b == 0x0A { line += 1 }
        return line
    }

    /// The 1-based column (in characters) of a byte offset within its line.
    static func column(ofOffset offset: Int, in bytes: [UInt8]) -> Int {
        let end = min(max(0, offset), bytes.count)
        var start = end
        while start > 0, bytes[start - 1] != 0x0A { start -= 1 }
        // Count UTF-8 lead bytes, not continuation bytes.
        return bytes[start..<end].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
    }

    /// Whether a byte is JSON whitespace.
    static func isWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
    }

    /// The start of the first line, for messages: at most 30 characters, control characters replaced.
    static func snippet<C: Collection<UInt8>>(_ bytes: C) -> String {
        let line = bytes.prefix { $0 != 0x0A && $0 != 0x0D }.prefix(200)
        return TextWidth.truncate(OneLine.clean(String(decoding: line, as: UTF8.self)), to: 30)
    }

    /// A problem with the first bytes of a file in any format: UTF-16 text, or a ZIP archive (an Excel workbook).
    static func sniffProblem(_ head: [UInt8], format: RecordFileFormat) -> String? {
        if head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF]) {
            return "the file is UTF-16 text; save it as UTF-8"
        }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            let name = format == .csv ? "CSV" : "JSON"
            return "the file is a ZIP archive (an Excel workbook?), not \(name); export it as CSV UTF-8"
        }
        return nil
    }

    /// A name for the kind of a JSON value, for messages: `a number`, `an array`.
    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a Boolean"
        case .number, .bigInteger: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
