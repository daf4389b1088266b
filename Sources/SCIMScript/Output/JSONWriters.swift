import SCIMCore

/// Prints records as one pretty JSON array, streaming: `[`, each object indented by two spaces, `]`.
///
/// Zero records print `[]`. The output always ends with a newline.
struct JSONArrayWriter: RecordWriter {
    private var count = 0

    mutating func write(_ record: Record) -> String {
        defer { count += 1 }
        var out: [UInt8] = Array((count == 0 ? "[\n  " : ",\n  ").utf8)
        // Strings in JSON text never hold a raw newline, so indenting after every newline is safe.
        var pretty = JSONEncoderFast.pretty(.object(record))
        pretty.withUTF8 { bytes in
            out.reserveCapacity(bytes.count + bytes.count / 8 + 4)
            for b in bytes {
                out.append(b)
                if b == 0x0A {
                    out.append(0x20)
                    out.append(0x20)
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func finish() -> String {
        count == 0 ? "[]\n" : "\n]\n"
    }
}

/// Prints records as JSON Lines: one compact JSON object per line.
struct JSONLinesWriter: RecordWriter {
    mutating func write(_ record: Record) -> String {
        JSONEncoderFast.encode(.object(record)) + "\n"
    }

    mutating func finish() -> String { "" }
}
