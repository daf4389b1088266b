/// A token of the word-style grammar.
struct Token: Sendable {
    /// What the token is.
    enum Kind: Sendable {
        /// A bare word, as written (the parser decides whether it is a number, `true`, a flag, ...).
        case word(String)
        /// A quoted string: interpolation parts, and whether it was a raw `'...'` string.
        case string([StringPart], raw: Bool)
        /// `$name`, `${name}`, `$1`.
        case variable(String)
        /// `$env.NAME`.
        case env(String)
        /// `=`.
        case equals
        /// `|`.
        case pipe
        /// `;`.
        case semicolon
        /// A line break that ends a statement.
        case newline
        /// The end of the text.
        case eof
    }

    var kind: Kind
    var range: SourceRange
    /// Whether whitespace (or the start of the text) comes right before the token.
    var spaceBefore: Bool

    /// Whether the token ends a statement.
    var isTerminator: Bool {
        switch kind {
        case .newline, .semicolon, .eof: return true
        default: return false
        }
    }

    /// Whether the token ends a stage.
    var endsStage: Bool {
        if case .pipe = kind { return true }
        return isTerminator
    }

    /// Whether the token can be (the start of) a value.
    var isValue: Bool {
        switch kind {
        case .word, .string, .variable, .env: return true
        default: return false
        }
    }
}

/// The result of scanning a filter: its text (with `\` line continuations blanked out) and where it is.
struct FilterScan: Sendable {
    var text: String
    var range: SourceRange
}

/// Splits scimsh source into tokens on demand, so the parser can switch to filter scanning mid-line.
///
/// Works on UTF-8 bytes: every character with meaning is ASCII, and any non-ASCII byte is part of a word or string,
/// so tokens always start and end on character boundaries.
struct Lexer: Sendable {
    let file: SourceFile
    private let bytes: [UInt8]
    /// The offset of the next byte to read.
    private(set) var position: Int = 0

    init(file: SourceFile) {
        self.file = file
        self.bytes = Array(file.text.utf8)
    }

    private func byte(at offset: Int) -> UInt8? {
        offset >= 0 && offset < bytes.count ? bytes[offset] : nil
    }

    /// The byte at the current position, if any (no trivia is skipped).
    var currentByte: UInt8? { byte(at: position) }

    // MARK: Character classes

    static func isBlank(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r")
    }

    static func isWordByte(_ b: UInt8) -> Bool {
        if b >= 0x80 { return true }
        if b <= 0x20 || b == 0x7F { return false }
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "'"),
            UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ";"), UInt8(ascii: "<"), UInt8(ascii: "="),
            UInt8(ascii: ">"), UInt8(ascii: "["), UInt8(ascii: "\\"), UInt8(ascii: "]"), UInt8(ascii: "`"),
            UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"):
            return false
        default:
            return true
        }
    }

    static func isIdentifierStart(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || b == UInt8(ascii: "_")
    }

    static func isDigit(_ b: UInt8) -> Bool {
        b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
    }

    static func isIdentifierByte(_ b: UInt8) -> Bool {
        isIdentifierStart(b) || isDigit(b)
    }

    /// Whether a string is a variable name: a letter or `_`, then letters, digits and `_`.
    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, isIdentifierStart(first) else { return false }
        return s.utf8.allSatisfy(isIdentifierByte)
    }

    /// The number of bytes in the UTF-8 sequence that starts with `lead` (1 for anything malformed).
    private static func sequenceLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0xC0...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF7: return 4
        default: return 1
        }
    }

    private func text(_ range: Range<Int>) -> String {
        let lower = min(max(0, range.lowerBound), bytes.count)
        let upper = min(max(lower, range.upperBound), bytes.count)
        return String(decoding: bytes[lower..<upper], as: UTF8.self)
    }

    /// The range of the whole character starting at `offset`.
    private func characterRange(at offset: Int) -> SourceRange {
        guard let lead = byte(at: offset) else { return .at(offset) }
        return SourceRange(lowerBound: offset, upperBound: min(bytes.count, offset + Lexer.sequenceLength(lead)))
    }

    // MARK: Trivia

    /// If a `\` line continuation starts at `offset` (a `\`, optional blanks, a newline), the offset after it.
    private func continuationEnd(at offset: Int) -> Int? {
        guard byte(at: offset) == UInt8(ascii: "\\") else { return nil }
        var i = offset + 1
        while let b = byte(at: i), Lexer.isBlank(b) { i += 1 }
        return byte(at: i) == UInt8(ascii: "\n") ? i + 1 : nil
    }

    /// Whether a `\` at `offset` is followed by nothing but blanks up to the end of the text.
    private func isTrailingBackslash(at offset: Int) -> Bool {
        guard byte(at: offset) == UInt8(ascii: "\\") else { return false }
        var i = offset + 1
        while let b = byte(at: i), Lexer.isBlank(b) { i += 1 }
        return i >= bytes.count
    }

    /// Skips blanks, `\` line continuations and comments (not the newline that ends a comment).
    ///
    /// Returns whether anything was skipped.
    @discardableResult
    mutating func skipTrivia() throws(Diagnostic) -> Bool {
        let start = position
        while let b = currentByte {
            if Lexer.isBlank(b) {
                position += 1
            } else if b == UInt8(ascii: "#") {
                while let c = currentByte, c != UInt8(ascii: "\n") { position += 1 }
            } else if let end = continuationEnd(at: position) {
                position = end
            } else if isTrailingBackslash(at: position) {
                throw Diagnostic.unexpectedEndOfInput(
                    "unexpected end of input after '\\'",
                    at: SourceRange(lowerBound: position, upperBound: position + 1),
                    in: file)
            } else {
                break
            }
        }
        return position > start
    }

    /// Whether, after trivia, the next token is a `--name` flag.
    ///
    /// Does not consume anything but trivia.
    mutating func atFlag() throws(Diagnostic) -> Bool {
        try skipTrivia()
        guard byte(at: position) == UInt8(ascii: "-"), byte(at: position + 1) == UInt8(ascii: "-"),
            let third = byte(at: position + 2)
        else { return false }
        return Lexer.isWordByte(third)
    }

    /// Moves to the start of the next statement after an error: past the next newline or `;`, or to the end.
    mutating func skipToNextStatement() {
        while let b = currentByte {
            position += 1
            if b == UInt8(ascii: "\n") || b == UInt8(ascii: ";") { return }
        }
    }

    // MARK: Tokens

    /// Reads the next word-style token.
    mutating func next() throws(Diagnostic) -> Token {
        let spaced = try skipTrivia() || position == 0
        let start = position
        guard let b = currentByte else {
            return Token(kind: .eof, range: .at(start), spaceBefore: spaced)
        }
        func single(_ kind: Token.Kind) -> Token {
            position += 1
            return Token(kind: kind, range: SourceRange(lowerBound: start, upperBound: start + 1), spaceBefore: spaced)
        }
        // Comparison words for `expect <= 40`: `<`, `<=`, `>`, `>=`, `==` standing alone.
        if b == UInt8(ascii: "<") || b == UInt8(ascii: ">")
            || (b == UInt8(ascii: "=") && byte(at: position + 1) == UInt8(ascii: "="))
        {
            var end = position + 1
            if byte(at: end) == UInt8(ascii: "=") { end += 1 }
            if byte(at: end).map({ Lexer.isBlank($0) || $0 == UInt8(ascii: "\n") }) ?? true {
                position = end
                return Token(kind: .word(text(start..<end)), range: SourceRange(start..<end), spaceBefore: spaced)
            }
        }
        switch b {
        case UInt8(ascii: "\n"): return single(.newline)
        case UInt8(ascii: "|"): return single(.pipe)
        case UInt8(ascii: ";"): return single(.semicolon)
        case UInt8(ascii: "="): return single(.equals)
        case UInt8(ascii: "\""):
            let parts = try lexDoubleQuoted()
            return Token(kind: .string(parts, raw: false), range: SourceRange(start..<position), spaceBefore: spaced)
        case UInt8(ascii: "'"):
            let text = try lexRawString()
            let parts: [StringPart] = text.isEmpty ? [] : [.text(text)]
            return Token(kind: .string(parts, raw: true), range: SourceRange(start..<position), spaceBefore: spaced)
        case UInt8(ascii: "$"):
            let reference = try lexVariable(inString: false)
            let kind: Token.Kind = reference.isEnv ? .env(reference.name) : .variable(reference.name)
            return Token(kind: kind, range: reference.range, spaceBefore: spaced)
        default:
            break
        }
        if Lexer.isWordByte(b) {
            while let c = currentByte, Lexer.isWordByte(c) { position += 1 }
            // An attribute path with a value filter (`emails[type eq "work"].value`) is one word.
            while currentByte == UInt8(ascii: "["), let close = valueFilterEnd(from: position) {
                position = close + 1
                while let c = currentByte, Lexer.isWordByte(c) { position += 1 }
            }
            return Token(kind: .word(text(start..<position)), range: SourceRange(start..<position), spaceBefore: spaced)
        }
        let range = characterRange(at: start)
        if b == UInt8(ascii: "\\") {
            throw Diagnostic.make(
                .unexpectedCharacter, "unexpected '\\' (a '\\' continues a line only at the end of it)", at: range,
                in: file)
        }
        let shown =
            b < 0x20
            ? "control character U+\(String(b, radix: 16, uppercase: true).leftPadded(to: 4))"
            : "'\(text(range.lowerBound..<range.upperBound))'"
        throw Diagnostic.make(
            .unexpectedCharacter, "unexpected \(shown) (put text with special characters in quotes)", at: range,
            in: file)
    }

    /// The offset of the `]` that closes the value filter opening at `open` (`[type eq "work"]`), skipping
    /// quoted text; `nil` when the line ends first (then `[` stays an unexpected character).
    func valueFilterEnd(from open: Int) -> Int? {
        var i = open + 1
        var quote: UInt8?
        while let c = byte(at: i), c != UInt8(ascii: "\n") {
            if let q = quote {
                if c == UInt8(ascii: "\\") {
                    i += 1
                } else if c == q {
                    quote = nil
                }
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                quote = c
            } else if c == UInt8(ascii: "]") {
                return i > open + 1 ? i : nil
            } else if c == UInt8(ascii: "[") || c == UInt8(ascii: "|") || c == UInt8(ascii: ";") {
                return nil
            }
            i += 1
        }
        return nil
    }

    /// Reads a `"..."` string whose opening quote is at `position`.
    private mutating func lexDoubleQuoted() throws(Diagnostic) -> [StringPart] {
        let start = position
        position += 1
        var parts: [StringPart] = []
        var buffer: [UInt8] = []
        func flush() {
            if !buffer.isEmpty {
                parts.append(.text(String(decoding: buffer, as: UTF8.self)))
                buffer.removeAll()
            }
        }
        while true {
            guard let b = currentByte else {
                throw Diagnostic.unterminatedString(at: SourceRange(lowerBound: start, upperBound: start + 1), in: file)
            }
            switch b {
            case UInt8(ascii: "\""):
                position += 1
                flush()
                return parts
            case UInt8(ascii: "\\"):
                if let end = continuationEnd(at: position) {
                    position = end
                    continue
                }
                guard let escaped = byte(at: position + 1) else {
                    throw Diagnostic.unterminatedString(
                        at: SourceRange(lowerBound: start, upperBound: start + 1), in: file)
                }
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "$"): buffer.append(escaped)
                case UInt8(ascii: "n"): buffer.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "t"): buffer.append(UInt8(ascii: "\t"))
                default:
                    let charRange = characterRange(at: position + 1)
                    throw Diagnostic.unknownEscape(
                        text(charRange.lowerBound..<charRange.upperBound),
                        at: SourceRange(lowerBound: position, upperBound: charRange.upperBound), in: file)
                }
                position += 2
            case UInt8(ascii: "$"):
                flush()
                let reference = try lexVariable(inString: true)
                parts.append(
                    reference.isEnv
                        ? .env(reference.name, range: reference.range)
                        : .variable(reference.name, range: reference.range))
            default:
                buffer.append(b)
                position += 1
            }
        }
    }

    /// Reads a `'...'` string whose opening quote is at `position`.
    private mutating func lexRawString() throws(Diagnostic) -> String {
        let start = position
        position += 1
        while let b = currentByte {
            position += 1
            if b == UInt8(ascii: "'") { return text((start + 1)..<(position - 1)) }
        }
        throw Diagnostic.unterminatedString(at: SourceRange(lowerBound: start, upperBound: start + 1), in: file)
    }

    /// Reads a variable reference whose `$` is at `position`: `$name`, `$1`, `${name}`, `$env.NAME`, `${env.NAME}`.
    private mutating func lexVariable(inString: Bool) throws(Diagnostic) -> (
        name: String, isEnv: Bool, range: SourceRange
    ) {
        let start = position
        let dollarRange = SourceRange(lowerBound: start, upperBound: start + 1)
        guard let next = byte(at: start + 1) else {
            throw invalidDollar(at: dollarRange, inString: inString)
        }
        if next == UInt8(ascii: "{") {
            var i = start + 2
            while let b = byte(at: i), b != UInt8(ascii: "}") {
                if b == UInt8(ascii: "\n") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") { break }
                i += 1
            }
            guard byte(at: i) == UInt8(ascii: "}") else {
                throw Diagnostic.make(
                    .unclosedBrace, "unclosed '${' (expected '}')",
                    at: SourceRange(lowerBound: start, upperBound: start + 2), in: file)
            }
            let content = text((start + 2)..<i)
            position = i + 1
            let range = SourceRange(start..<position)
            if content.hasPrefix("env."), Lexer.isIdentifier(String(content.dropFirst(4))) {
                return (String(content.dropFirst(4)), true, range)
            }
            if Lexer.isIdentifier(content) || (!content.isEmpty && content.utf8.allSatisfy(Lexer.isDigit)) {
                return (content, false, range)
            }
            let message =
                content.isEmpty ? "expected a variable name in '${}'" : "invalid variable name '\(content)' in '${...}'"
            throw Diagnostic.make(.invalidVariable, message, at: range, in: file)
        }
        if Lexer.isDigit(next) {
            var i = start + 1
            while let b = byte(at: i), Lexer.isDigit(b) { i += 1 }
            position = i
            return (text((start + 1)..<i), false, SourceRange(start..<i))
        }
        guard Lexer.isIdentifierStart(next) else {
            throw invalidDollar(at: dollarRange, inString: inString)
        }
        var i = start + 1
        while let b = byte(at: i), Lexer.isIdentifierByte(b) { i += 1 }
        let name = text((start + 1)..<i)
        if name == "env", byte(at: i) == UInt8(ascii: ".") {
            var j = i + 1
            guard let first = byte(at: j), Lexer.isIdentifierStart(first) else {
                throw Diagnostic.make(
                    .invalidVariable, "expected an environment variable name after '$env.'",
                    at: SourceRange(lowerBound: start, upperBound: i + 1), in: file)
            }
            while let b = byte(at: j), Lexer.isIdentifierByte(b) { j += 1 }
            position = j
            return (text((i + 1)..<j), true, SourceRange(start..<j))
        }
        position = i
        return (name, false, SourceRange(start..<i))
    }

    private func invalidDollar(at range: SourceRange, inString: Bool) -> Diagnostic {
        let hint = inString ? " (write '\\$' for a literal '$')" : " (put a literal '$' in single quotes)"
        return Diagnostic.make(.invalidVariable, "expected a variable name after '$'" + hint, at: range, in: file)
    }

    // MARK: Filters

    /// Reads the filter of a filter-style stage, or `nil` when there is no filter text.
    ///
    /// The filter is everything up to the next `|`, `;`, newline or `#` outside strings and brackets, or up to a
    /// ` --flag`.
    /// Strings are JSON strings (`\` escapes anything); a newline inside brackets or a string does not end the filter.
    /// A `\` line continuation is replaced by spaces of the same length, so offsets into the text map to the file.
    mutating func scanFilter() throws(Diagnostic) -> FilterScan? {
        try skipTrivia()
        let start = position
        var i = start
        var open: [Int] = []  // offsets of unclosed `(` and `[`
        var blanked: [Range<Int>] = []
        scan: while let b = byte(at: i) {
            switch b {
            case UInt8(ascii: "|"), UInt8(ascii: ";"), UInt8(ascii: "#"), UInt8(ascii: "\n"):
                if open.isEmpty { break scan }
                i += 1
            case UInt8(ascii: "-"):
                if open.isEmpty, i > start, let before = byte(at: i - 1), Lexer.isBlank(before) || before == 0x0A,
                    byte(at: i + 1) == UInt8(ascii: "-"), let third = byte(at: i + 2), Lexer.isIdentifierStart(third)
                {
                    break scan
                }
                i += 1
            case UInt8(ascii: "\\"):
                if let end = continuationEnd(at: i) {
                    blanked.append(i..<end)
                    i = end
                } else if isTrailingBackslash(at: i) {
                    throw Diagnostic.unexpectedEndOfInput(
                        "unexpected end of input after '\\'", at: SourceRange(lowerBound: i, upperBound: i + 1),
                        in: file)
                } else {
                    i += 1
                }
            case UInt8(ascii: "\""):
                let quote = i
                i += 1
                while true {
                    // A JSON string cannot hold a line break, so reading more lines would not help.
                    guard let c = byte(at: i), c != UInt8(ascii: "\n") else {
                        throw Diagnostic.unterminatedString(
                            at: SourceRange(lowerBound: quote, upperBound: quote + 1), in: file, incomplete: false)
                    }
                    if c == UInt8(ascii: "\"") {
                        i += 1
                        break
                    }
                    i += c == UInt8(ascii: "\\") ? 2 : 1
                }
            case UInt8(ascii: "("), UInt8(ascii: "["):
                open.append(i)
                i += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"):
                if !open.isEmpty { open.removeLast() }
                i += 1
            default:
                i += 1
            }
        }
        if let unclosed = open.last {
            let bracket = text(unclosed..<(unclosed + 1))
            throw Diagnostic.make(
                .unclosedBracket, "unclosed '\(bracket)' in filter",
                at: SourceRange(lowerBound: unclosed, upperBound: unclosed + 1), in: file, incomplete: true)
        }
        i = min(i, bytes.count)
        position = i
        var end = i
        while end > start {
            guard let last = byte(at: end - 1) else { break }
            if Lexer.isBlank(last) || last == UInt8(ascii: "\n") {
                end -= 1
            } else if let blank = blanked.last, blank.upperBound == end {
                end = blank.lowerBound
                blanked.removeLast()
            } else {
                break
            }
        }
        guard end > start else { return nil }
        var filterBytes = Array(bytes[start..<end])
        for blank in blanked where blank.upperBound <= end {
            for k in blank { filterBytes[k - start] = UInt8(ascii: " ") }
        }
        return FilterScan(text: String(decoding: filterBytes, as: UTF8.self), range: SourceRange(start..<end))
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
