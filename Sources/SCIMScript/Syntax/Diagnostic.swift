/// A problem found in scimsh source, reported like a compiler's: file, line, column, the line and a caret.
///
/// Library code never prints: it throws or returns diagnostics, and the front end renders them with ``render(color:)``.
public struct Diagnostic: Error, Sendable, CustomStringConvertible {
    /// How serious a diagnostic is.
    public enum Severity: Sendable, Hashable {
        /// Something that stops the statement from running.
        case error
        /// Something suspicious that does not stop anything.
        case warning
        /// Extra information attached to another diagnostic.
        case note
    }

    /// A stable identifier for the kind of problem, so tests and tools need not match message text.
    ///
    /// A struct over a private enum, so kinds can be added without breaking users.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case general, unterminatedString, unknownEscape, invalidVariable, unclosedBrace, unexpectedCharacter
            case unexpectedToken, missingSpace, expectedEquals, expectedValue, expectedName, expectedCommand
            case tooManyValues, invalidFilter, unclosedBracket, unexpectedEndOfInput
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Any problem without a more specific code (the default for diagnostics made outside the parser).
        public static let general = Code(.general)
        /// A `"` or `'` string with no closing quote.
        public static let unterminatedString = Code(.unterminatedString)
        /// A `\` escape in a string that the language does not define.
        public static let unknownEscape = Code(.unknownEscape)
        /// A `$` not followed by a valid variable reference.
        public static let invalidVariable = Code(.invalidVariable)
        /// A `${` with no closing `}`.
        public static let unclosedBrace = Code(.unclosedBrace)
        /// A character that cannot start any token.
        public static let unexpectedCharacter = Code(.unexpectedCharacter)
        /// A token where the grammar does not allow it.
        public static let unexpectedToken = Code(.unexpectedToken)
        /// Two arguments written with no space between them.
        public static let missingSpace = Code(.missingSpace)
        /// `set NAME` or `let NAME` without `=`.
        public static let expectedEquals = Code(.expectedEquals)
        /// A missing value: after `=`, after a valued flag, after `source`.
        public static let expectedValue = Code(.expectedValue)
        /// A missing or malformed variable name.
        public static let expectedName = Code(.expectedName)
        /// A missing command: a stray `|`, an empty `let` or `explain`.
        public static let expectedCommand = Code(.expectedCommand)
        /// More values than a statement takes (`set x = a b`).
        public static let tooManyValues = Code(.tooManyValues)
        /// A SCIM filter that does not parse.
        public static let invalidFilter = Code(.invalidFilter)
        /// A `(` or `[` in a filter with no closing partner.
        public static let unclosedBracket = Code(.unclosedBracket)
        /// Input that stops in the middle of something (a trailing `|` or `\`).
        public static let unexpectedEndOfInput = Code(.unexpectedEndOfInput)

        /// The code's name, such as `unterminatedString`.
        public var description: String { base.rawValue }
    }

    /// Whether this is an error, a warning or a note.
    public var severity: Severity
    /// What went wrong, phrased for a person.
    public var message: String
    /// Where, as UTF-8 offsets into ``file``; `nil` when the problem has no position.
    public var range: SourceRange?
    /// The source the range points into; `nil` when there is none.
    public var file: SourceFile?
    /// Whether the problem is only that the input ended too soon (an open string, a trailing `|` or `\`, an unclosed
    /// bracket in a filter): a REPL then reads another line and parses again.
    public var isIncompleteInput: Bool
    /// The kind of problem.
    public var code: Code

    /// A diagnostic from all of its parts.
    public init(
        severity: Severity = .error,
        code: Code = .general,
        message: String,
        range: SourceRange? = nil,
        file: SourceFile? = nil,
        isIncompleteInput: Bool = false
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.range = range
        self.file = file
        self.isIncompleteInput = isIncompleteInput
    }

    /// An error with a message, optionally at a range of a file.
    public static func error(_ message: String, at range: SourceRange? = nil, in file: SourceFile? = nil) -> Diagnostic
    {
        Diagnostic(severity: .error, message: message, range: range, file: file)
    }

    /// A warning with a message, optionally at a range of a file.
    public static func warning(_ message: String, at range: SourceRange? = nil, in file: SourceFile? = nil)
        -> Diagnostic
    {
        Diagnostic(severity: .warning, message: message, range: range, file: file)
    }

    /// A note with a message, optionally at a range of a file.
    public static func note(_ message: String, at range: SourceRange? = nil, in file: SourceFile? = nil) -> Diagnostic {
        Diagnostic(severity: .note, message: message, range: range, file: file)
    }

    /// The 1-based line and column of the start of the range, when both file and range are known.
    public var location: (line: Int, column: Int)? {
        guard let file, let range else { return nil }
        return file.location(of: range.lowerBound)
    }

    /// The diagnostic without colour, as ``render(color:)`` gives it.
    public var description: String { render() }

    /// The diagnostic as a compiler shows it, ending in a newline.
    ///
    /// ```
    /// offboard.scim:3:9: error: expected a value after '='
    ///     set x =
    ///            ^
    /// ```
    ///
    /// The source line is indented by four spaces; the caret line puts `^` under the start of the range and `~` under
    /// the rest of it (up to the end of that line). With no file, or no range, only the message line is shown.
    /// The value of a `set token` / `set api_token` line is masked with `*`, so secrets never reach the screen.
    /// ANSI bold and red are used only when `color` is true.
    public func render(color: Bool = false) -> String {
        let bold = color ? "\u{1B}[1m" : ""
        let red = color ? "\u{1B}[1;31m" : ""
        let magenta = color ? "\u{1B}[1;35m" : ""
        let reset = color ? "\u{1B}[0m" : ""
        let label: String
        switch severity {
        case .error: label = "\(red)error:\(reset)"
        case .warning: label = "\(magenta)warning:\(reset)"
        case .note: label = "\(bold)note:\(reset)"
        }
        guard let file else {
            return "\(label) \(bold)\(message)\(reset)\n"
        }
        guard let range else {
            return "\(bold)\(file.name):\(reset) \(label) \(bold)\(message)\(reset)\n"
        }
        let (line, column) = file.location(of: range.lowerBound)
        var out = "\(bold)\(file.name):\(line):\(column):\(reset) \(label) \(bold)\(message)\(reset)\n"
        let source = Diagnostic.redactingSecrets(file.line(line))
        out += "    " + source + "\n"
        // The caret line copies tabs from the source so that the caret lines up.
        var caret = "    "
        for (index, character) in source.enumerated() where index < column - 1 {
            caret += character == "\t" ? "\t" : " "
        }
        let sourceLength = source.count
        let endOffset = min(range.upperBound, file.byteCount)
        let (endLine, endColumn) = file.location(of: endOffset)
        let lastColumn = endLine == line ? endColumn : sourceLength + 1
        let tildes = max(0, min(lastColumn, sourceLength + 1) - column - 1)
        caret += red + "^" + String(repeating: "~", count: tildes) + reset
        out += caret + "\n"
        return out
    }

    /// The line with the value of `set token = ...` or `set api_token = ...` replaced by `*` characters (one per
    /// character, so columns stay put).
    static func redactingSecrets(_ line: String) -> String {
        let characters = Array(line)
        var index = 0
        func skipBlanks() {
            while index < characters.count, characters[index] == " " || characters[index] == "\t" { index += 1 }
        }
        func word() -> String {
            let start = index
            while index < characters.count, characters[index].isLetter || characters[index] == "_" { index += 1 }
            return String(characters[start..<index])
        }
        skipBlanks()
        guard word() == "set" else { return line }
        skipBlanks()
        guard Parser.secretVariableNames.contains(word()) else { return line }
        skipBlanks()
        guard index < characters.count, characters[index] == "=" else { return line }
        index += 1
        var result = String(characters[0..<index])
        for character in characters[index...] {
            result.append(character == " " || character == "\t" ? character : "*")
        }
        return result
    }
}

// MARK: - Factories for the parser's diagnostics

extension Diagnostic {
    static func make(
        _ code: Code,
        _ message: String,
        at range: SourceRange,
        in file: SourceFile,
        incomplete: Bool = false
    ) -> Diagnostic {
        Diagnostic(
            severity: .error, code: code, message: message, range: range, file: file, isIncompleteInput: incomplete)
    }

    static func unterminatedString(at range: SourceRange, in file: SourceFile, incomplete: Bool = true) -> Diagnostic {
        make(.unterminatedString, "unterminated string (started here)", at: range, in: file, incomplete: incomplete)
    }

    static func unknownEscape(_ escape: String, at range: SourceRange, in file: SourceFile) -> Diagnostic {
        make(.unknownEscape, "unknown escape '\\\(escape)' in string", at: range, in: file)
    }

    static func unexpectedEndOfInput(_ message: String, at range: SourceRange, in file: SourceFile) -> Diagnostic {
        make(.unexpectedEndOfInput, message, at: range, in: file, incomplete: true)
    }
}
