/// An error in JSON text: what was wrong and at which byte offset.
public struct JSONParseError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What was wrong.
    public let message: String
    /// The 0-based byte offset in the input.
    public let offset: Int

    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}

/// A strict RFC 8259 JSON parser working directly on UTF-8 bytes.
///
/// It keeps object member order, rejects trailing garbage and truncated input, and limits nesting
/// depth so hostile input cannot exhaust the stack.
public enum JSONParser {
    /// The deepest nesting accepted.
    public static let maxDepth = 512

    /// Parses one JSON text.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var copy = text
        return try copy.withUTF8 { buf in result(bytes: buf) }.get()
    }

    /// Parses one JSON text from bytes.
    public static func parse<C: Collection<UInt8>>(_ bytes: C) throws(JSONParseError) -> JSONValue {
        if let r = bytes.withContiguousStorageIfAvailable({ buf in result(bytes: buf) }) {
            return try r.get()
        }
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buf in result(bytes: buf) }.get()
    }

    static func result(bytes: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> {
        do throws(JSONParseError) {
            return .success(try parse(bytes: bytes))
        } catch {
            return .failure(error)
        }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var p = Parser(bytes: bytes)
        p.skipWhitespace()
        let v = try p.parseValue(depth: 0)
        p.skipWhitespace()
        if p.pos != bytes.count {
            throw JSONParseError(message: "unexpected text after the JSON value", offset: p.pos)
        }
        return v
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var pos = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        func error(_ message: String) -> JSONParseError { JSONParseError(message: message, offset: pos) }

        mutating func skipWhitespace() {
            while pos < bytes.count {
                switch bytes[pos] {
                case 0x20, 0x09, 0x0A, 0x0D: pos += 1
                default: return
                }
            }
        }

        mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth < JSONParser.maxDepth else { throw error("nesting too deep") }
            guard pos < bytes.count else { throw error("unexpected end of input") }
            switch bytes[pos] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectWord("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default:
                let c = bytes[pos]
                if c < 0x80 { throw error("unexpected character '\(Character(Unicode.Scalar(c)))'") }
                throw error("unexpected character")
            }
        }

        mutating func expectWord(_ word: StaticString) throws(JSONParseError) {
            let n = word.utf8CodeUnitCount
            guard pos + n <= bytes.count else { throw error("unexpected end of input") }
            let w = word.utf8Start
            for i in 0..<n where bytes[pos + i] != w[i] {
                throw error("invalid literal")
            }
            pos += n
        }

        mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
            pos += 1
            // Room for the members of a typical user, so that the array grows once at most instead of four
            // times (growing it was a sixth of the client's allocations per record).
            var obj = JSONObject(capacity: 12)
            // A later member whose name equals an earlier one ignoring case replaces it (as `obj[key] = v` does).
            // Searching for such a name on every member made parsing quadratic, so names seen so far are also
            // kept as a 64-bit Bloom filter of their ASCII-folded bytes: a plain ASCII name whose bit is clear
            // cannot be a repeat and is appended directly. Any other name takes the full lookup, and after a
            // non-ASCII name (which Unicode lowercasing may match to an ASCII one) every later name does.
            var seen: UInt64 = 0
            var plainNames = true
            skipWhitespace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return .object(obj)
            }
            while true {
                skipWhitespace()
                guard pos < bytes.count else { throw error("unexpected end of input in object") }
                guard bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let keyStart = pos + 1
                let key = try parseString()
                // Without escapes the name is the bytes between its quotes (an escape always shrinks).
                let raw = UnsafeBufferPointer(rebasing: bytes[keyStart..<(pos - 1)])
                let (bit, ascii) = raw.count == key.utf8.count ? Parser.nameBit(raw) : (0, false)
                skipWhitespace()
                guard pos < bytes.count else { throw error("unexpected end of input in object") }
                guard bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':' after member name") }
                pos += 1
                skipWhitespace()
                let v = try parseValue(depth: depth + 1)
                if !ascii { plainNames = false }
                if plainNames, seen & bit == 0 {
                    obj.appendNew(key, v)
                } else {
                    obj[key] = v
                }
                seen |= bit
                skipWhitespace()
                guard pos < bytes.count else { throw error("unexpected end of input in object") }
                if bytes[pos] == UInt8(ascii: ",") {
                    pos += 1
                    continue
                }
                if bytes[pos] == UInt8(ascii: "}") {
                    pos += 1
                    return .object(obj)
                }
                throw error("expected ',' or '}' in object")
            }
        }

        /// A member name's bit in the Bloom filter of ``parseObject(depth:)`` (names equal ignoring ASCII case
        /// get the same bit), and whether the name is all ASCII.
        static func nameBit(_ name: UnsafeBufferPointer<UInt8>) -> (bit: UInt64, ascii: Bool) {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            var high: UInt8 = 0
            for b in name {
                high |= b
                hash = (hash ^ UInt64(b | 0x20)) &* 0x100_0000_01B3
            }
            return (1 << (hash >> 58), high < 0x80)
        }

        mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
            pos += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard pos < bytes.count else { throw error("unexpected end of input in array") }
                if bytes[pos] == UInt8(ascii: ",") {
                    pos += 1
                    continue
                }
                if bytes[pos] == UInt8(ascii: "]") {
                    pos += 1
                    return .array(items)
                }
                throw error("expected ',' or ']' in array")
            }
        }

        mutating func parseHex4() throws(JSONParseError) -> UInt32 {
            guard pos + 4 <= bytes.count else { throw error("unexpected end of input in \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[pos]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw error("invalid \\u escape")
                }
                v = v * 16 + d
                pos += 1
            }
            return v
        }

        mutating func parseString() throws(JSONParseError) -> String {
            pos += 1
            let start = pos
            // Fast path: no escapes. Plain text is skipped eight bytes at a time.
            pos = JSONBytes.plainRun(bytes, from: pos)
            while pos < bytes.count {
                let c = bytes[pos]
                if c == UInt8(ascii: "\"") {
                    // JSON text is UTF-8 (RFC 8259 §8.1): bytes that are not are refused, not repaired, so a value
                    // read from a server is never written back changed.
                    guard let s = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
                    else { throw error("invalid UTF-8 in a string") }
                    pos += 1
                    return s
                }
                if c == UInt8(ascii: "\\") { break }
                if c < 0x20 { throw error("control character in string") }
                pos += 1
            }
            var out: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[start..<pos]))
            while pos < bytes.count {
                let c = bytes[pos]
                if c == UInt8(ascii: "\"") {
                    guard let s = String(validating: out, as: UTF8.self) else {
                        throw error("invalid UTF-8 in a string")
                    }
                    pos += 1
                    return s
                }
                if c < 0x20 { throw error("control character in string") }
                if c != UInt8(ascii: "\\") {
                    out.append(c)
                    pos += 1
                    continue
                }
                let escapeStart = pos
                pos += 1
                guard pos < bytes.count else { break }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800...0xDBFF).contains(code) {
                        if pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u")
                        {
                            let lowStart = pos
                            pos += 2
                            let low = try parseHex4()
                            if (0xDC00...0xDFFF).contains(low) {
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                // A lone high surrogate: replace it, and read the next escape on its own.
                                code = 0xFFFD
                                pos = lowStart
                            }
                        } else {
                            code = 0xFFFD
                        }
                    } else if (0xDC00...0xDFFF).contains(code) {
                        code = 0xFFFD
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw JSONParseError(message: "invalid escape in string", offset: escapeStart)
                }
            }
            throw error("unterminated string")
        }

        mutating func parseNumber() throws(JSONParseError) -> Double {
            let start = pos
            if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw error("invalid number") }
            if bytes[pos] == UInt8(ascii: "0"), pos + 1 < bytes.count, isDigit(bytes[pos + 1]) {
                throw error("invalid number: leading zero")
            }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
                pos += 1
                guard pos < bytes.count, isDigit(bytes[pos]) else { throw error("invalid number") }
                while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
                pos += 1
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
                guard pos < bytes.count, isDigit(bytes[pos]) else { throw error("invalid number") }
                while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
            guard let d = Double(text) else { throw error("invalid number") }
            guard d.isFinite else { throw JSONParseError(message: "number out of range", offset: start) }
            return d
        }
    }
}

/// Writes `JSONValue`s as JSON text, compact or pretty, keeping member order.
public enum JSONEncoderFast {
    /// Compact JSON (no spaces).
    public static func encode(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out, pretty: false, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Compact JSON as bytes.
    public static func encodeBytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out, pretty: false, indent: 0)
        return out
    }

    /// Appends compact JSON to `out` (for writers that build a larger text around values).
    public static func writeCompact(_ value: JSONValue, into out: inout [UInt8]) {
        write(value, into: &out, pretty: false, indent: 0)
    }

    /// Indented JSON (two spaces), for people to read.
    public static func pretty(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        write(value, into: &out, pretty: true, indent: 0)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends a JSON string literal (quoted and escaped).
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { bytes in
            // Runs that need no escaping (nearly all text) are found eight bytes at a time and copied in one go.
            var runStart = 0
            var i = JSONBytes.plainRun(bytes, from: 0)
            while i < bytes.count {
                let b = bytes[i]
                if i > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
                runStart = i + 1
                switch b {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                }
                i = JSONBytes.plainRun(bytes, from: runStart)
            }
            if bytes.count > runStart { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...])) }
        }
        out.append(0x22)
    }

    /// A quoted, escaped JSON string literal.
    public static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        writeString(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(0x0A)
        out.append(contentsOf: repeatElement(0x20, count: indent * 2))
    }

    static func write(_ value: JSONValue, into out: inout [UInt8], pretty: Bool, indent: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: JSONValue.formatNumber(n).utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty {
                out.append(contentsOf: "[]".utf8)
                return
            }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                write(item, into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let obj):
            if obj.isEmpty {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            for (i, m) in obj.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                writeString(m.key, into: &out)
                out.append(UInt8(ascii: ":"))
                if pretty { out.append(0x20) }
                write(m.value, into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }
}

/// Byte scanning shared by the JSON parser and writer.
enum JSONBytes {
    /// The index of the first byte at or after `from` that ends plain string text: a quote, a backslash or a
    /// control character (`bytes.count` when there is none). Whole words of eight plain bytes are skipped at
    /// once; the word that holds a stop (or seems to: the test can flag bytes after a real stop) is read a byte
    /// at a time, so the answer is exact.
    @inline(__always)
    static func plainRun(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        var i = from
        if let base = bytes.baseAddress {
            let (ones, highs) = (ASCIIWords.ones, ASCIIWords.highs)
            while i + 8 <= bytes.count {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let quote = w ^ (0x22 &* ones)
                let backslash = w ^ (0x5C &* ones)
                // The high bit of a byte is set where it is zero in `quote` or `backslash`, or below 0x20 in `w`
                // (and, through a borrow, maybe in the bytes after such a byte).
                let stops =
                    ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- 0x20 &* ones) & ~w)
                if stops & highs != 0 { break }
                i += 8
            }
        }
        while i < bytes.count {
            let c = bytes[i]
            if c == 0x22 || c == 0x5C || c < 0x20 { return i }
            i += 1
        }
        return i
    }
}
