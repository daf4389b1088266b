/// Parses SCIM filter text (RFC 7644 §3.4.2.2) into a ``SCIMFilter``.
///
/// The grammar: comparisons `attrPath op value` (`eq ne co sw ew gt ge lt le`, case-insensitive),
/// presence `attrPath pr`, `and`, `or`, `not (...)`, parentheses, and value filters on multi-valued
/// attributes (`emails[type eq "work"]`). `not` binds tighter than `and`, `and` tighter than `or`; both
/// are left-associative. Values are JSON literals (`true`, `false` and `null` in any case).
///
/// Parsing never traps. Every error carries a UTF-8 byte offset into the text. Nesting of parentheses,
/// `not` and value filters is limited to ``maxDepth`` levels and a filter to ``maxComparisons``
/// comparisons, so hostile input cannot exhaust the stack of any code that walks the tree.
public enum FilterParser {
    /// The deepest nesting of parentheses, `not (...)` and value filters accepted.
    public static let maxDepth = 200
    /// The most comparisons (`attrPath op value` and `attrPath pr`) one filter may hold.
    public static let maxComparisons = 1000

    /// Parses a SCIM filter.
    ///
    /// - Parameters:
    ///   - text: The filter, such as `userName eq "bjensen" and emails[type eq "work"]`.
    ///   - allowVariables: Whether a value may be a scimsh variable, `$name` or `${name}` (letters,
    ///     digits, `_` and `.`, as in `$env.HOME`, or only digits, as in `$1`), parsed as
    ///     ``FilterValue/variable(_:)``.
    /// - Throws: ``FilterParseError`` saying what was expected and where.
    public static func parse(_ text: String, allowVariables: Bool = false) throws(FilterParseError) -> SCIMFilter {
        var parser = FilterTextParser(bytes: Array(text.utf8), allowVariables: allowVariables)
        return try parser.parseFilter()
    }
}

/// The recursive-descent parser behind ``FilterParser``, working on UTF-8 bytes.
struct FilterTextParser {
    let bytes: [UInt8]
    let allowVariables: Bool
    var pos = 0
    var comparisons = 0
    /// The text of the last token consumed, for "expected ... after 'x'" messages.
    var previous = ""

    init(bytes: [UInt8], allowVariables: Bool) {
        self.bytes = bytes
        self.allowVariables = allowVariables
    }

    static let operatorList = "eq, ne, co, sw, ew, gt, ge, lt, le, pr"

    // MARK: Bytes

    func byte(_ i: Int) -> UInt8? { i >= 0 && i < bytes.count ? bytes[i] : nil }

    var current: UInt8? { byte(pos) }

    mutating func skipSpaces() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { pos += 1 }
    }

    func text(_ range: Range<Int>) -> String {
        let lower = max(0, min(range.lowerBound, bytes.count))
        let upper = max(lower, min(range.upperBound, bytes.count))
        return String(decoding: bytes[lower..<upper], as: UTF8.self)
    }

    static func isAlpha(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    /// Bytes of attribute paths and keywords: `A-Z a-z 0-9 - _ : . $`.
    static func isWordByte(_ c: UInt8) -> Bool {
        isAlpha(c) || isDigit(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ":")
            || c == UInt8(ascii: ".") || c == UInt8(ascii: "$")
    }

    /// The end of the run of word bytes starting at `start` (`start` itself if there is none).
    func wordEnd(from start: Int) -> Int {
        var i = start
        while let c = byte(i), Self.isWordByte(c) { i += 1 }
        return i
    }

    /// The end of a bare value token (a number or keyword): word bytes and `+` (for `1e+5`).
    func valueRunEnd(from start: Int) -> Int {
        var i = start
        while let c = byte(i), Self.isWordByte(c) || c == UInt8(ascii: "+") { i += 1 }
        return i
    }

    /// The end of the string literal opening at `start`, just past its closing quote, or `nil`.
    func stringEnd(from start: Int) -> Int? {
        var i = start + 1
        while let c = byte(i) {
            if c == UInt8(ascii: "\\") {
                i += 2
                continue
            }
            if c == UInt8(ascii: "\"") { return i + 1 }
            i += 1
        }
        return nil
    }

    /// The token at `start`, for messages: a word, a quoted string, or one character.
    func token(at start: Int) -> (text: String, length: Int) {
        guard let c = byte(start) else { return ("", 1) }
        if Self.isWordByte(c) || c == UInt8(ascii: "+") {
            let end = valueRunEnd(from: start)
            return (text(start..<end), end - start)
        }
        if c == UInt8(ascii: "\"") {
            let end = stringEnd(from: start) ?? bytes.count
            return (text(start..<end), end - start)
        }
        var end = start + 1
        while let b = byte(end), b & 0xC0 == 0x80 { end += 1 }
        return (text(start..<end), end - start)
    }

    func fail(_ message: String, at offset: Int, length: Int = 1) -> FilterParseError {
        FilterParseError(message: message, offset: offset, length: max(1, length))
    }

    /// An error pointing at the whole token at `offset`.
    func fail(_ message: String, atTokenAt offset: Int) -> FilterParseError {
        fail(message, at: offset, length: token(at: offset).length)
    }

    // MARK: Grammar

    mutating func parseFilter() throws(FilterParseError) -> SCIMFilter {
        skipSpaces()
        guard pos < bytes.count else { throw fail("empty filter", at: 0, length: bytes.count) }
        let filter = try parseOr(depth: 0, valueFilterOf: nil)
        skipSpaces()
        if let c = current {
            if c == UInt8(ascii: ")") { throw fail("unexpected ')'", at: pos) }
            if c == UInt8(ascii: "]") { throw fail("unexpected ']'", at: pos) }
            let t = token(at: pos)
            throw fail("unexpected '\(t.text)' after a complete filter", at: pos, length: t.length)
        }
        return filter
    }

    /// Consumes the keyword (`and`, `or`) if it is the next word, case-insensitively.
    mutating func consumeKeyword(_ keyword: String) -> Bool {
        skipSpaces()
        let end = wordEnd(from: pos)
        guard end > pos else { return false }
        let word = text(pos..<end)
        guard word.lowercased() == keyword else { return false }
        previous = word
        pos = end
        return true
    }

    mutating func parseOr(depth: Int, valueFilterOf outer: String?) throws(FilterParseError) -> SCIMFilter {
        var left = try parseAnd(depth: depth, valueFilterOf: outer)
        while consumeKeyword("or") {
            let right = try parseAnd(depth: depth, valueFilterOf: outer)
            left = .or(left, right)
        }
        return left
    }

    mutating func parseAnd(depth: Int, valueFilterOf outer: String?) throws(FilterParseError) -> SCIMFilter {
        var left = try parseTerm(depth: depth, valueFilterOf: outer)
        while consumeKeyword("and") {
            let right = try parseTerm(depth: depth, valueFilterOf: outer)
            left = .and(left, right)
        }
        return left
    }

    /// A parenthesised filter; `pos` is at `(`.
    mutating func parseGroup(depth: Int, valueFilterOf outer: String?) throws(FilterParseError) -> SCIMFilter {
        guard depth < FilterParser.maxDepth else {
            throw fail("filter nested too deeply (more than \(FilterParser.maxDepth) levels)", at: pos)
        }
        pos += 1
        previous = "("
        let inner = try parseOr(depth: depth + 1, valueFilterOf: outer)
        skipSpaces()
        guard current == UInt8(ascii: ")") else {
            if let outer, current == UInt8(ascii: "]") {
                throw fail("expected ')' to close '(' before the ']' of the value filter on '\(outer)'", at: pos)
            }
            throw fail("expected ')' to close '('", atTokenAt: pos)
        }
        pos += 1
        previous = ")"
        return inner
    }

    mutating func parseTerm(depth: Int, valueFilterOf outer: String?) throws(FilterParseError) -> SCIMFilter {
        skipSpaces()
        guard let c = current else {
            throw fail(previous.isEmpty ? "empty filter" : "expected a filter after '\(previous)'", at: pos)
        }
        if c == UInt8(ascii: "(") { return try parseGroup(depth: depth, valueFilterOf: outer) }
        let start = pos
        let end = wordEnd(from: pos)
        guard end > start else {
            if previous.isEmpty {
                if c == UInt8(ascii: ")") { throw fail("unexpected ')'", at: pos) }
                throw fail(
                    "expected an attribute name, 'not' or '(' instead of '\(token(at: pos).text)'",
                    atTokenAt: pos
                )
            }
            throw fail("expected a filter after '\(previous)'", atTokenAt: pos)
        }
        let word = text(start..<end)
        if word.lowercased() == "not" {
            var after = end
            while let b = byte(after), b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { after += 1 }
            if byte(after) == UInt8(ascii: "(") {
                pos = after
                return .not(try parseGroup(depth: depth, valueFilterOf: outer))
            }
            // An attribute named "not" is still allowed: `not eq "x"`.
            let nextEnd = wordEnd(from: after)
            let next = text(after..<nextEnd).lowercased()
            if next != "pr" && CompareOperator(rawValue: next) == nil && byte(after) != UInt8(ascii: "[") {
                throw fail("expected '(' after 'not'", atTokenAt: after)
            }
        }
        let path = try makePath(word, at: start)
        pos = end
        previous = word
        skipSpaces()
        if current == UInt8(ascii: "[") {
            return try parseValueFilter(path: path, word: word, start: start, depth: depth, outer: outer)
        }
        let opStart = pos
        let opEnd = wordEnd(from: pos)
        let opWord = text(opStart..<opEnd)
        let opLower = opWord.lowercased()
        if opLower == "pr" {
            pos = opEnd
            previous = opWord
            try countComparison(at: start)
            try rejectValueAfterPresent()
            return .present(path)
        }
        guard opEnd > opStart, let op = CompareOperator(rawValue: opLower) else {
            throw fail("expected an operator (\(Self.operatorList)) after '\(word)'", atTokenAt: opStart)
        }
        pos = opEnd
        previous = opWord
        let value = try parseValue(after: opWord)
        try countComparison(at: start)
        return .compare(path, op, value)
    }

    /// `attr[filter]`; `pos` is at `[`.
    mutating func parseValueFilter(
        path: AttributePath,
        word: String,
        start: Int,
        depth: Int,
        outer: String?
    ) throws(FilterParseError) -> SCIMFilter {
        if let outer {
            throw fail(
                "value filters cannot be nested: '\(word)[' inside '\(outer)[...]'",
                at: start,
                length: pos + 1 - start
            )
        }
        guard path.subAttribute == nil else {
            throw fail(
                "a value filter applies to a multi-valued attribute, not to the sub-attribute '\(word)'",
                at: start,
                length: pos - start
            )
        }
        guard depth < FilterParser.maxDepth else {
            throw fail("filter nested too deeply (more than \(FilterParser.maxDepth) levels)", at: pos)
        }
        pos += 1
        previous = "["
        let inner = try parseOr(depth: depth + 1, valueFilterOf: word)
        skipSpaces()
        guard current == UInt8(ascii: "]") else {
            throw fail("expected ']' to close the value filter on '\(word)'", atTokenAt: pos)
        }
        pos += 1
        previous = "]"
        return .valuePath(path, inner)
    }

    mutating func countComparison(at offset: Int) throws(FilterParseError) {
        comparisons += 1
        if comparisons > FilterParser.maxComparisons {
            throw fail("filter has too many comparisons (more than \(FilterParser.maxComparisons))", atTokenAt: offset)
        }
    }

    /// `pr` takes no value: reject `title pr "x"` with a clear message rather than "unexpected ...".
    mutating func rejectValueAfterPresent() throws(FilterParseError) {
        var i = pos
        while let b = byte(i), b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { i += 1 }
        guard let c = byte(i) else { return }
        let word = text(i..<valueRunEnd(from: i)).lowercased()
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "-") || Self.isDigit(c) || c == UInt8(ascii: "$")
            || word == "true" || word == "false" || word == "null"
        {
            throw fail("'pr' does not take a value", atTokenAt: i)
        }
    }

    /// Splits `urn:...:User:name.givenName` into schema, name and sub-attribute, checking each name.
    func makePath(_ word: String, at start: Int) throws(FilterParseError) -> AttributePath {
        let length = word.utf8.count
        var schema: String?
        var rest = Substring(word)
        if let colon = word.lastIndex(of: ":") {
            let urn = word[..<colon]
            rest = word[word.index(after: colon)...]
            guard let first = urn.utf8.first, Self.isAlpha(first) else {
                throw fail("'\(word)' is not a valid attribute path", at: start, length: length)
            }
            guard !rest.isEmpty else {
                throw fail("expected an attribute name after the schema '\(urn)'", at: start, length: length)
            }
            schema = String(urn)
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy(Self.isAttributeName) else {
            throw fail("'\(word)' is not a valid attribute path", at: start, length: length)
        }
        let name = parts.first.map(String.init) ?? ""
        let sub = parts.count == 2 ? parts.last.map(String.init) : nil
        return AttributePath(schema: schema, name: name, subAttribute: sub)
    }

    /// RFC 7643 ATTRNAME (`ALPHA *(ALPHA / DIGIT / "-" / "_")`), or the reserved `$ref`.
    static func isAttributeName(_ name: Substring) -> Bool {
        if name.lowercased() == "$ref" { return true }
        guard let first = name.utf8.first, isAlpha(first) else { return false }
        return name.utf8.allSatisfy { isAlpha($0) || isDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    // MARK: Values

    mutating func parseValue(after opWord: String) throws(FilterParseError) -> FilterValue {
        skipSpaces()
        guard let c = current else { throw fail("expected a value after '\(opWord)'", at: pos) }
        if c == UInt8(ascii: "\"") { return .literal(.string(try parseString())) }
        if c == UInt8(ascii: "$") { return .variable(try parseVariable()) }
        let start = pos
        let end = valueRunEnd(from: pos)
        guard end > start else { throw fail("expected a value after '\(opWord)'", atTokenAt: pos) }
        let word = text(start..<end)
        switch word.lowercased() {
        case "true":
            pos = end
            return .literal(.bool(true))
        case "false":
            pos = end
            return .literal(.bool(false))
        case "null":
            pos = end
            return .literal(.null)
        default:
            break
        }
        if c == UInt8(ascii: "-") || Self.isDigit(c) {
            guard let number = try? JSONParser.parse(bytes[start..<end]), number.numberValue != nil else {
                throw fail("invalid number '\(word)'", at: start, length: end - start)
            }
            pos = end
            return .literal(number)
        }
        throw fail("expected a value after '\(opWord)' (strings need double quotes)", at: start, length: end - start)
    }

    /// A JSON string literal; `pos` is at its opening quote.
    mutating func parseString() throws(FilterParseError) -> String {
        let start = pos
        guard let end = stringEnd(from: start) else {
            throw fail("unterminated string", at: start, length: bytes.count - start)
        }
        let value: JSONValue
        do throws(JSONParseError) {
            value = try JSONParser.parse(bytes[start..<end])
        } catch {
            throw fail(error.message, at: start + error.offset)
        }
        guard case .string(let s) = value else { throw fail("invalid string", at: start, length: end - start) }
        pos = end
        return s
    }

    /// `$name` or `${name}`; `pos` is at `$`.
    mutating func parseVariable() throws(FilterParseError) -> String {
        let start = pos
        guard allowVariables else {
            throw fail("variables ('$name') are not allowed in this filter", atTokenAt: start)
        }
        func isNameByte(_ c: UInt8) -> Bool {
            Self.isAlpha(c) || Self.isDigit(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
        }
        let braced = byte(start + 1) == UInt8(ascii: "{")
        let nameStart = braced ? start + 2 : start + 1
        var nameEnd = nameStart
        while let c = byte(nameEnd), isNameByte(c) { nameEnd += 1 }
        let name = text(nameStart..<nameEnd)
        let valid =
            !name.isEmpty
            && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
                guard let first = $0.utf8.first else { return false }
                return Self.isAlpha(first) || first == UInt8(ascii: "_") || Self.isDigit(first)
            }
            && ((name.utf8.first.map { Self.isAlpha($0) || $0 == UInt8(ascii: "_") } ?? false)
                || name.utf8.allSatisfy(Self.isDigit))  // `$1`: a script argument
        guard valid else {
            throw fail(
                "expected a variable name after '\(braced ? "${" : "$")'",
                at: start,
                length: max(1, nameEnd - start)
            )
        }
        if braced {
            guard byte(nameEnd) == UInt8(ascii: "}") else {
                throw fail("expected '}' to close '${'", at: nameEnd)
            }
            nameEnd += 1
        }
        pos = nameEnd
        return name
    }
}
