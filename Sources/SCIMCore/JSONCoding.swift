/// An error in JSON text: what was wrong and at which byte offset.
public struct JSONParseError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What was wrong.
    public let message: String
    /// The 0-based byte offset in the input.
    public let offset: Int

    public var description: String { "invalid JSON at byte \(offset): \(message)" }

    /// Whether the input was not UTF-8 text (the error's offset is the first byte that is not).
    public var isInvalidUTF8: Bool { message == "invalid UTF-8" }
}

/// A strict RFC 8259 JSON parser working directly on UTF-8 bytes.
///
/// It keeps object member order, rejects trailing garbage and truncated input, and limits nesting
/// depth so hostile input cannot exhaust the stack. Input that is not UTF-8 is an error ("invalid UTF-8" at the
/// first bad byte), not replaced. An integer of magnitude 2^53 or more keeps its exact digits
/// (``JSONValue/bigInteger(_:)``); other numbers are `Double`s.
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
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default:
                let c = bytes[pos]
                if c < 0x80 { throw error("unexpected character '\(Character(Unicode.Scalar(c)))'") }
                _ = try text(bytes[pos..<min(pos + 4, bytes.count)].prefix { $0 >= 0x80 }, from: pos)
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

        /// Past the opening bracket of an object or array: whether it is empty (then past `close` too).
        mutating func opensEmpty(_ close: UInt8) -> Bool {
            pos += 1
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == close else { return false }
            pos += 1
            return true
        }

        /// After a member or element: true past a `,` (another follows), false past the closing bracket.
        mutating func moreItems(_ close: Character, in what: String) throws(JSONParseError) -> Bool {
            skipWhitespace()
            guard pos < bytes.count else { throw error("unexpected end of input in \(what)") }
            let comma = bytes[pos] == UInt8(ascii: ",")
            guard comma || bytes[pos] == close.asciiValue else { throw error("expected ',' or '\(close)' in \(what)") }
            pos += 1
            return comma
        }

        mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
            var obj = JSONObject()
            if opensEmpty(UInt8(ascii: "}")) { return .object(obj) }
            repeat {
                skipWhitespace()
                guard pos < bytes.count else { throw error("unexpected end of input in object") }
                guard bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let key = try parseString()
                skipWhitespace()
                guard pos < bytes.count else { throw error("unexpected end of input in object") }
                guard bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':' after member name") }
                pos += 1
                skipWhitespace()
                // A later member whose name equals an earlier one ignoring case replaces it.
                obj[key] = try parseValue(depth: depth + 1)
            } while try moreItems("}", in: "object")
            return .object(obj)
        }

        mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
            var items: [JSONValue] = []
            if opensEmpty(UInt8(ascii: "]")) { return .array(items) }
            repeat {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
            } while try moreItems("]", in: "array")
            return .array(items)
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

        /// The string in `slice` (which starts at byte `from`); an error at the first byte that is not part of
        /// well-formed UTF-8 (Unicode's rules: no overlong forms, surrogates or values above U+10FFFF).
        func text(_ slice: Slice<UnsafeBufferPointer<UInt8>>, from: Int) throws(JSONParseError) -> String {
            if let s = String(validating: slice, as: UTF8.self) { return s }
            var offset = from
            var parser = Unicode.UTF8.ForwardParser()
            var iterator = slice.makeIterator()
            while case .valid(let scalar) = parser.parseScalar(from: &iterator) { offset += scalar.count }
            throw JSONParseError(message: "invalid UTF-8", offset: offset)
        }

        mutating func parseString() throws(JSONParseError) -> String {
            pos += 1
            let start = pos
            // Fast path: no escapes.
            while pos < bytes.count {
                let c = bytes[pos]
                if c == UInt8(ascii: "\"") {
                    let s = try text(bytes[start..<pos], from: start)
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
                    // Escapes make whole scalars, so `out` is UTF-8 exactly when the string's bytes are.
                    guard let s = String(validating: out, as: UTF8.self) else {
                        _ = try text(bytes[start..<pos], from: start)
                        throw error("invalid UTF-8")
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

        /// A number; an integer of magnitude 2^53 or more keeps its digits (``JSONValue/bigInteger(_:)``).
        mutating func parseNumber() throws(JSONParseError) -> JSONValue {
            let start = pos
            if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw error("invalid number") }
            if bytes[pos] == UInt8(ascii: "0"), pos + 1 < bytes.count, isDigit(bytes[pos + 1]) {
                throw error("invalid number: leading zero")
            }
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            let integerEnd = pos
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
            if integerEnd == pos, abs(d) >= 0x1p53 { return .bigInteger(text) }
            return .number(d)
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
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
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
        case .bigInteger(let digits):
            // Made by hand, the case may hold any text: only a JSON integer is written as one.
            let valid = (try? JSONParser.parse(digits)).map { $0 == value } ?? false
            if valid { out.append(contentsOf: digits.utf8) } else { writeString(digits, into: &out) }
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
