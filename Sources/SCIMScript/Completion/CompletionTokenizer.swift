/// A token of possibly incomplete input, for completion only (the parser has its own, strict lexer).
struct CompletionToken: Equatable {
    enum Kind: Equatable {
        /// A bare word: a command, attribute, operator, number, path.
        case word
        /// A quoted string; `terminated` is false when the input ends inside it.
        case string(quote: UInt8, terminated: Bool)
        /// `$name`, `${name}` or `$env.NAME`.
        case variable
        case pipe, semicolon, newline, equals, openBracket, closeBracket, openParen, closeParen, comma
        /// From `#` to the end of the line.
        case comment
    }

    var kind: Kind
    /// UTF-8 byte offsets in the line.
    var range: Range<Int>
    /// The token's source text.
    var text: String

    /// Whether this is a bare word equal to `keyword`, ignoring case.
    func isWord(_ keyword: String) -> Bool {
        kind == .word && text.lowercased() == keyword
    }
}

/// Splits text into ``CompletionToken``s without ever failing: unterminated strings and `${` run to the end.
enum CompletionTokenizer {
    /// The tokens of `bytes`, a UTF-8 line prefix. A backslash before a newline joins the lines.
    static func tokenize(_ bytes: [UInt8]) -> [CompletionToken] {
        var tokens: [CompletionToken] = []
        var index = 0
        func add(_ kind: CompletionToken.Kind, _ start: Int, _ end: Int) {
            let text = String(decoding: bytes[start..<end], as: UTF8.self)
            tokens.append(CompletionToken(kind: kind, range: start..<end, text: text))
        }
        while index < bytes.count {
            let byte = bytes[index]
            let start = index
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "\\") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "\n"):
                index += 2
            case UInt8(ascii: "\n"):
                index += 1
                add(.newline, start, index)
            case UInt8(ascii: "#"):
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
                add(.comment, start, index)
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                index += 1
                var terminated = false
                while index < bytes.count {
                    let current = bytes[index]
                    index += 1
                    if current == byte {
                        terminated = true
                        break
                    }
                    if byte == UInt8(ascii: "\""), current == UInt8(ascii: "\\"), index < bytes.count {
                        index += 1
                    }
                }
                add(.string(quote: byte, terminated: terminated), start, index)
            case UInt8(ascii: "$"):
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "{") {
                    while index < bytes.count {
                        let current = bytes[index]
                        index += 1
                        if current == UInt8(ascii: "}") { break }
                    }
                } else {
                    while index < bytes.count, isVariableByte(bytes[index]) { index += 1 }
                }
                add(.variable, start, index)
            case UInt8(ascii: "|"): index += 1; add(.pipe, start, index)
            case UInt8(ascii: ";"): index += 1; add(.semicolon, start, index)
            case UInt8(ascii: "="): index += 1; add(.equals, start, index)
            case UInt8(ascii: "["): index += 1; add(.openBracket, start, index)
            case UInt8(ascii: "]"): index += 1; add(.closeBracket, start, index)
            case UInt8(ascii: "("): index += 1; add(.openParen, start, index)
            case UInt8(ascii: ")"): index += 1; add(.closeParen, start, index)
            case UInt8(ascii: ","): index += 1; add(.comma, start, index)
            default:
                while index < bytes.count, isWordByte(bytes[index]) { index += 1 }
                add(.word, start, index)
            }
        }
        return tokens
    }

    /// Bytes that may follow `$` in a variable reference: letters, digits, `_`, `.` (for `$env.NAME`).
    static func isVariableByte(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }

    /// Bytes that continue a bare word: anything but white space, quotes, `$` and the punctuation above.
    static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: "\""),
            UInt8(ascii: "'"), UInt8(ascii: "$"), UInt8(ascii: "|"), UInt8(ascii: ";"), UInt8(ascii: "="),
            UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ","):
            return false
        default:
            return true
        }
    }
}
