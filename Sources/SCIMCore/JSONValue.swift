/// A JSON value that keeps the order of object members and every attribute a server sends.
///
/// SCIM resources carry attributes that no client models (`name`, enterprise extensions, ...);
/// scimsh keeps them all by working on `JSONValue` rather than on fixed structs.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    /// An integer of magnitude 2^53 or more, where a `Double` starts to skip integers, kept as its JSON digits
    /// (`-?[1-9][0-9]*`) so that an id or counter passes through parse → encode exactly. The parser makes it for
    /// every such integer literal (without a fraction or exponent); ``numberValue`` gives its nearest `Double`.
    case bigInteger(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The Boolean, if this is a Boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number, if this is a number (a ``bigInteger(_:)`` as its nearest `Double`).
    public var numberValue: Double? {
        switch self {
        case .number(let n): return n
        case .bigInteger(let digits): return Double(digits)
        default: return nil
        }
    }

    /// The object, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Member lookup on objects (case-insensitive, as SCIM attribute names are); `nil` otherwise.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// A short human-readable rendering: strings without quotes, numbers without a needless `.0`,
    /// arrays and objects as compact JSON.
    public var displayString: String {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return JSONValue.formatNumber(n)
        case .bigInteger(let digits): return digits
        case .string(let s): return s
        case .array, .object: return JSONEncoderFast.encode(self)
        }
    }

    /// Formats a number the way JSON writers do: integers below 2^53 without a fraction or exponent.
    public static func formatNumber(_ n: Double) -> String {
        // A whole Double of 2^53 or more is written with an exponent (1.2345678901234568e+17), so that it reads
        // back as the same Double and not as a ``bigInteger(_:)`` of digits it never had (found by fuzz/json).
        if abs(n) < 0x1p53, let whole = Int64(exactly: n) { return String(whole) }
        if !n.isFinite { return "null" }
        return String(n)
    }

    /// The order of two numbers (−1, 0, 1), or `nil` unless both are numbers: two ``bigInteger(_:)``s are
    /// compared exactly, anything else by `Double`.
    public static func numericOrder(_ a: JSONValue, _ b: JSONValue) -> Int? {
        if case .bigInteger(let x) = a, case .bigInteger(let y) = b {
            let (xNegative, yNegative) = (x.hasPrefix("-"), y.hasPrefix("-"))
            if xNegative != yNegative { return xNegative ? -1 : 1 }
            // Same sign: more digits means a larger magnitude; equal lengths compare as text.
            let (p, q) = (x.utf8.count, y.utf8.count)
            let magnitude = p != q ? (p < q ? -1 : 1) : (x < y ? -1 : x == y ? 0 : 1)
            return xNegative ? -magnitude : magnitude
        }
        guard let x = a.numberValue, let y = b.numberValue, !x.isNaN, !y.isNaN else { return nil }
        return x < y ? -1 : x == y ? 0 : 1
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

/// A JSON object that keeps its members in the order they were added or parsed.
///
/// Lookups by name are case-insensitive (RFC 7643 §2.1: attribute names are case-insensitive);
/// an exact-case match is preferred when both exist.
public struct JSONObject: Sendable, Hashable, Sequence {
    /// The members in order.
    public private(set) var members: [(key: String, value: JSONValue)]

    /// Whether a member name holds non-ASCII text (set when one is added, never cleared): while it is false,
    /// an ASCII name can only match a name of its own length, which lets lookups skip the others.
    private var nonASCIIKeys = false

    /// An empty object.
    public init() { members = [] }

    /// An object with these members, in this order (a later duplicate key replaces an earlier one).
    public init(_ pairs: [(String, JSONValue)]) {
        members = []
        members.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    /// The member names in order.
    public var keys: [String] { members.map(\.key) }
    /// The number of members.
    public var count: Int { members.count }
    /// Whether there are no members.
    public var isEmpty: Bool { members.isEmpty }

    /// The index of a member, exact case first, then case-insensitive.
    ///
    /// The parser calls this for every member it reads and every attribute lookup does, so the common case is
    /// kept cheap: when the name and every member name are ASCII, only names of the same length are compared.
    public func index(of key: String) -> Int? {
        if let i = members.firstIndex(where: { $0.key == key }) { return i }
        if !nonASCIIKeys, key.isAllASCII {
            let count = key.utf8.count
            return members.firstIndex { $0.key.utf8.count == count && JSONObject.equalIgnoringCase($0.key, key) }
        }
        return members.firstIndex(where: { JSONObject.equalIgnoringCase($0.key, key) })
    }

    /// Case-insensitive equality without allocating: ASCII letters fold byte by byte; other text is compared
    /// with full Unicode lowercasing only when it is not ASCII.
    static func equalIgnoringCase(_ a: String, _ b: String) -> Bool {
        let folded = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in foldedEqual(x, y) } ?? nil
        }
        if let result = folded ?? nil { return result }
        return a.lowercased() == b.lowercased()
    }

    /// ASCII case-insensitive equality of two byte strings; `nil` when non-ASCII text decides.
    static func foldedEqual(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard x.count == y.count else {
            // Only non-ASCII text can change its length when lowercased.
            return x.contains(where: { $0 >= 0x80 }) || y.contains(where: { $0 >= 0x80 }) ? nil : false
        }
        for i in 0..<x.count where x[i] != y[i] {
            let (p, q) = (x[i], y[i])
            if p >= 0x80 || q >= 0x80 { return nil }
            let lower = p | 0x20
            if lower != q | 0x20 || lower < 0x61 || lower > 0x7A { return false }
        }
        return true
    }

    /// Reads, replaces, adds (at the end) or, with `nil`, removes a member.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = index(of: key) else { return nil }
            return members[i].value
        }
        set {
            if let i = index(of: key) {
                if let v = newValue { members[i].value = v } else { members.remove(at: i) }
            } else if let v = newValue {
                if !nonASCIIKeys, !key.isAllASCII { nonASCIIKeys = true }
                members.append((key, v))
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for (k, v) in lhs.members {
            guard rhs[k] == v else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(members.count)
        // Sort by the lowercased name, as `==` compares names case-insensitively and ignores order.
        for (k, v) in members.map({ (key: $0.key.lowercased(), value: $0.value) }).sorted(by: { $0.key < $1.key }) {
            hasher.combine(k)
            hasher.combine(v)
        }
    }
}
