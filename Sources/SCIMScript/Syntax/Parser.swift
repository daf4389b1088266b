import SCIMCore

/// Parses scimsh source into a ``Script``.
///
/// The parser does not know which commands exist; it asks `syntax` how each stage is written (`nil`: an unknown
/// command, parsed as word style, for the evaluator to report). Filter-style stages (`find`, `where`) take the rest of
/// the stage as a SCIM filter, parsed with `FilterParser` (variables allowed).
public struct Parser: Sendable {
    /// The variables whose values are never shown: `set token = ...` lines are masked in diagnostics.
    public static let secretVariableNames: Set<String> = ["token", "api_token"]

    /// The syntax of the built-in commands (``BuiltinCommands``), from their signatures.
    public static let builtinSyntax: @Sendable (String) -> CommandSyntax? = { name in builtinTable[name.lowercased()] }

    private static let builtinTable = CommandSignature.table(BuiltinCommands.all).mapValues(\.syntax)

    private let syntax: @Sendable (String) -> CommandSyntax?

    /// A parser that asks `syntax` how each command's stage is written (`nil` for an unknown command).
    public init(syntax: @escaping @Sendable (String) -> CommandSyntax?) {
        self.syntax = syntax
    }

    /// A parser with ``builtinSyntax``.
    public init() {
        self.init(syntax: Parser.builtinSyntax)
    }

    /// Parses a whole file, throwing the first error.
    public func parse(_ file: SourceFile) throws(Diagnostic) -> Script {
        var state = ParserState(file: file, syntax: syntax)
        var statements: [Statement] = []
        while let statement = try state.nextStatement() {
            statements.append(statement)
        }
        return Script(statements: statements, file: file)
    }

    /// Parses text under a name (`<command line>` by default), throwing the first error.
    public func parse(_ text: String, name: String = "<command line>") throws(Diagnostic) -> Script {
        try parse(SourceFile(name: name, text: text))
    }

    /// Parses a whole file, collecting every error.
    ///
    /// A statement with an error is left out and parsing resumes after the next newline or `;`. Parsing stops at an
    /// error that means the input ended too soon.
    public func parseRecovering(_ file: SourceFile) -> (Script, [Diagnostic]) {
        var state = ParserState(file: file, syntax: syntax)
        var statements: [Statement] = []
        var diagnostics: [Diagnostic] = []
        while true {
            do {
                guard let statement = try state.nextStatement() else { break }
                statements.append(statement)
            } catch {
                diagnostics.append(error)
                if error.isIncompleteInput { break }
                state.recover()
            }
        }
        return (Script(statements: statements, file: file), diagnostics)
    }

    /// Whether `text` stops in the middle of something (an open string, a trailing `|` or `\`, an unclosed bracket in a
    /// filter), so that a REPL should read another line, append it after a newline, and parse again.
    public func needsMoreInput(_ text: String) -> Bool {
        do {
            _ = try parse(SourceFile(name: "<input>", text: text))
            return false
        } catch {
            return error.isIncompleteInput
        }
    }
}

/// The mutable state of one parse.
private struct ParserState {
    let file: SourceFile
    let syntax: @Sendable (String) -> CommandSyntax?
    var lexer: Lexer
    /// The current token, lexed on demand so that filter-style stages can scan their filter from the raw text.
    private var lookahead: Token?
    /// The end of the last token consumed.
    private var lastEnd = 0

    init(file: SourceFile, syntax: @escaping @Sendable (String) -> CommandSyntax?) {
        self.file = file
        self.syntax = syntax
        self.lexer = Lexer(file: file)
    }

    // MARK: Tokens

    mutating func current() throws(Diagnostic) -> Token {
        if let lookahead { return lookahead }
        let token = try lexer.next()
        lookahead = token
        return token
    }

    @discardableResult
    mutating func consume() throws(Diagnostic) -> Token {
        let token = try current()
        lookahead = nil
        lastEnd = token.range.upperBound
        return token
    }

    mutating func recover() {
        if let lookahead, lookahead.isTerminator {
            self.lookahead = nil
            return
        }
        lookahead = nil
        lexer.skipToNextStatement()
    }

    private func error(_ code: Diagnostic.Code, _ message: String, at range: SourceRange) -> Diagnostic {
        Diagnostic.make(code, message, at: range, in: file)
    }

    /// How a token is named in messages; `secret` hides the text of words and strings.
    private func describe(_ token: Token, secret: Bool = false) -> String {
        switch token.kind {
        case .word(let text): return secret ? "text" : "'\(text)'"
        case .string: return "a string"
        case .variable, .env: return "'\(file.text(in: token.range))'"
        case .equals: return "'='"
        case .pipe: return "'|'"
        case .semicolon: return "';'"
        case .newline: return "end of line"
        case .eof: return "end of input"
        }
    }

    // MARK: Statements

    /// The next statement, or `nil` at the end of the text.
    mutating func nextStatement() throws(Diagnostic) -> Statement? {
        while true {
            let token = try current()
            switch token.kind {
            case .newline, .semicolon: try consume()
            case .eof: return nil
            default:
                let start = token.range.lowerBound
                let kind = try statementKind()
                let end = try current()
                guard end.isTerminator else {
                    throw error(.unexpectedToken, "unexpected \(describe(end))", at: end.range)
                }
                let range = SourceRange(lowerBound: start, upperBound: max(start, lastEnd))
                return Statement(kind: kind, range: range, text: file.text(in: range))
            }
        }
    }

    private mutating func statementKind() throws(Diagnostic) -> StatementKind {
        let token = try current()
        guard case .word(let keyword) = token.kind else {
            return .pipeline(try pipeline(atStatementStart: true))
        }
        switch keyword {
        case "set": return try setStatement()
        case "unset":
            try consume()
            let (name, nameRange) = try variableName(after: "unset")
            try expectEnd(of: "unset", takes: "one variable name")
            return .unset(name: name, nameRange: nameRange)
        case "vars":
            try consume()
            try expectEnd(of: "vars", takes: "no arguments")
            return .vars
        case "let": return try letStatement()
        case "source":
            try consume()
            let next = try current()
            guard next.isValue else {
                throw error(.expectedValue, "expected a file name after 'source'", at: next.range)
            }
            let path = try value()
            try expectEnd(of: "source", takes: "one file name")
            return .source(path: path)
        case "echo":
            try consume()
            var values: [Expr] = []
            while true {
                let next = try current()
                if next.isTerminator { break }
                if case .pipe = next.kind {
                    throw error(.unexpectedToken, "unexpected '|': 'echo' cannot be used in a pipeline", at: next.range)
                }
                values.append(try value())
            }
            return .echo(values)
        case "help":
            try consume()
            let next = try current()
            var topic: String?
            switch next.kind {
            case .word(let text):
                topic = text
                try consume()
            case .string(let parts, _):
                var text = ""
                for part in parts {
                    guard case .text(let piece) = part else {
                        throw error(.unexpectedToken, "a help topic cannot contain variables", at: next.range)
                    }
                    text += piece
                }
                topic = text
                try consume()
            default:
                break
            }
            try expectEnd(of: "help", takes: "at most one topic")
            return .help(topic: topic)
        case "explain":
            try consume()
            let next = try current()
            if next.isTerminator {
                throw error(.expectedCommand, "expected a pipeline after 'explain'", at: next.range)
            }
            return .explain(try pipeline(atStatementStart: false))
        default:
            return .pipeline(try pipeline(atStatementStart: true))
        }
    }

    /// Throws unless the statement ends here.
    private mutating func expectEnd(of keyword: String, takes what: String) throws(Diagnostic) {
        let next = try current()
        guard next.isTerminator else {
            throw error(.tooManyValues, "unexpected \(describe(next)): '\(keyword)' takes \(what)", at: next.range)
        }
    }

    /// A variable name after `set`, `unset` or `let`.
    private mutating func variableName(after keyword: String) throws(Diagnostic) -> (String, SourceRange) {
        let token = try current()
        switch token.kind {
        case .word(let name):
            guard Lexer.isIdentifier(name) else {
                throw error(
                    .expectedName,
                    "invalid variable name '\(name)' (use letters, digits and '_', starting with a letter or '_')",
                    at: token.range)
            }
            try consume()
            return (name, token.range)
        case .variable(let name):
            throw error(
                .expectedName, "expected a variable name after '\(keyword)' (write '\(keyword) \(name)', without '$')",
                at: token.range)
        default:
            throw error(.expectedName, "expected a variable name after '\(keyword)'", at: token.range)
        }
    }

    private mutating func setStatement() throws(Diagnostic) -> StatementKind {
        try consume()
        let (name, nameRange) = try variableName(after: "set")
        let secret = Parser.secretVariableNames.contains(name)
        let equals = try current()
        guard case .equals = equals.kind else {
            throw error(.expectedEquals, "expected '=' after 'set \(name)'", at: equals.range)
        }
        try consume()
        let next = try current()
        guard next.isValue || { if case .equals = next.kind { return true } else { return false } }() else {
            throw error(.expectedValue, "expected a value after '='", at: next.range)
        }
        let expr = try value(secret: secret)
        let extra = try current()
        guard extra.isTerminator else {
            let hint = extra.isValue ? " (put text with spaces in quotes)" : ""
            throw error(
                .tooManyValues, "unexpected \(describe(extra, secret: secret)): 'set' takes a single value\(hint)",
                at: extra.range)
        }
        return .set(name: name, nameRange: nameRange, value: expr)
    }

    private mutating func letStatement() throws(Diagnostic) -> StatementKind {
        try consume()
        let (name, nameRange) = try variableName(after: "let")
        let equals = try current()
        guard case .equals = equals.kind else {
            throw error(.expectedEquals, "expected '=' after 'let \(name)'", at: equals.range)
        }
        try consume()
        let next = try current()
        if next.isTerminator {
            throw error(.expectedCommand, "expected a pipeline after 'let \(name) ='", at: next.range)
        }
        return .letBinding(name: name, nameRange: nameRange, pipeline: try pipeline(atStatementStart: false))
    }

    // MARK: Values

    /// One value: a run of adjacent words and `=` signs (one bare word), a string, or a variable.
    ///
    /// Throws if another value follows with no space in between (`$user@example.com`). Looks at raw bytes rather
    /// than lexing the token after the value, so a filter after a flag value is never lexed as words.
    private mutating func value(secret: Bool = false) throws(Diagnostic) -> Expr {
        try value(startingWith: try consume(), secret: secret)
    }

    /// ``value(secret:)`` for a first token already consumed (so the lexer stands right after it).
    private mutating func value(startingWith token: Token, secret: Bool = false) throws(Diagnostic) -> Expr {
        let expr: Expr
        switch token.kind {
        case .word, .equals:
            var joined = ""
            if case .word(let text) = token.kind { joined = text } else { joined = "=" }
            var range = token.range
            while lookahead == nil, let b = lexer.currentByte, Lexer.isWordByte(b) || b == UInt8(ascii: "=") {
                let next = try consume()
                if case .word(let more) = next.kind { joined += more } else { joined += "=" }
                range = range.union(next.range)
            }
            if case .word = token.kind {
                expr = ParserState.classify(joined, range: range)
            } else {
                expr = .bareWord(joined, range: range)
            }
        case .string(let parts, let raw):
            expr = .string(parts: parts, raw: raw, range: token.range)
        case .variable(let name):
            expr = .variable(name, range: token.range)
        case .env(let name):
            expr = .env(name, range: token.range)
        case .pipe, .semicolon, .newline, .eof:
            throw error(.expectedValue, "expected a value, found \(describe(token))", at: token.range)
        }
        if lookahead == nil, let b = lexer.currentByte,
            Lexer.isWordByte(b) || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") || b == UInt8(ascii: "$")
                || b == UInt8(ascii: "=")
        {
            let next = try current()
            throw error(
                .missingSpace,
                "missing space before \(describe(next, secret: secret)) (to join text and variables, write one "
                    + "\"...\" string)",
                at: next.range)
        }
        return expr
    }

    /// A bare word as a value: `true`, `false`, `null`, a JSON number, or the word itself.
    ///
    /// Integers too large for a `Double` to hold exactly stay words, so ids like `12345678901234567890` are not
    /// rounded.
    static func classify(_ word: String, range: SourceRange) -> Expr {
        switch word {
        case "true": return .literal(.bool(true), range: range)
        case "false": return .literal(.bool(false), range: range)
        case "null": return .literal(.null, range: range)
        default: break
        }
        guard let (number, isInteger) = jsonNumber(word), number.isFinite else { return .bareWord(word, range: range) }
        if isInteger, abs(number) >= 9_007_199_254_740_992 { return .bareWord(word, range: range) }
        return .literal(.number(number), range: range)
    }

    /// The value of a word that is a JSON number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`), and whether it
    /// was written as an integer.
    private static func jsonNumber(_ word: String) -> (Double, Bool)? {
        let bytes = Array(word.utf8)
        var i = 0
        func digits() -> Int {
            let start = i
            while i < bytes.count, Lexer.isDigit(bytes[i]) { i += 1 }
            return i - start
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { return nil }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits() == 0 {
            return nil
        }
        var isInteger = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            isInteger = false
            guard digits() > 0 else { return nil }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            isInteger = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return nil }
        }
        guard i == bytes.count, let value = Double(word) else { return nil }
        return (value, isInteger)
    }

    // MARK: Pipelines

    private mutating func pipeline(atStatementStart: Bool) throws(Diagnostic) -> Pipeline {
        let first = try current()
        if case .pipe = first.kind {
            throw error(.expectedCommand, "expected a command before '|'", at: first.range)
        }
        var stages = [try stage(first: true, atStatementStart: atStatementStart)]
        while case .pipe = try current().kind {
            let pipe = try consume()
            var next = try current()
            while case .newline = next.kind {
                try consume()
                next = try current()
            }
            switch next.kind {
            case .eof:
                throw Diagnostic.unexpectedEndOfInput("expected a command after '|'", at: pipe.range, in: file)
            case .pipe, .semicolon:
                throw error(.expectedCommand, "expected a command after '|'", at: pipe.range)
            default:
                stages.append(try stage(first: false, atStatementStart: false))
            }
        }
        let lower = stages.first?.range.lowerBound ?? first.range.lowerBound
        let upper = stages.last?.range.upperBound ?? lower
        return Pipeline(stages: stages, range: SourceRange(lowerBound: lower, upperBound: upper))
    }

    private mutating func stage(first: Bool, atStatementStart: Bool) throws(Diagnostic) -> Stage {
        let token = try current()
        switch token.kind {
        case .word(let name):
            try consume()
            let syntax = self.syntax(name) ?? .words
            if atStatementStart, syntax.style == .words, case .equals = try current().kind {
                throw error(
                    .unexpectedToken, "unexpected '=' (to set a variable, write 'set \(name) = ...')",
                    at: try current().range)
            }
            switch syntax.style {
            case .words: return try wordStage(name: name, nameRange: token.range, syntax: syntax)
            case .filter: return try filterStage(name: name, nameRange: token.range, syntax: syntax)
            }
        case .variable(let name) where first:
            try consume()
            let next = try current()
            guard next.endsStage else {
                throw error(
                    .unexpectedToken,
                    "unexpected \(describe(next)): '\(file.text(in: token.range))' as the first stage takes no "
                        + "arguments",
                    at: next.range)
            }
            return Stage(name: name, nameRange: token.range, range: token.range, isVariableSource: true)
        case .variable:
            throw error(
                .expectedCommand,
                "expected a command, found '\(file.text(in: token.range))' (a variable can only start a pipeline)",
                at: token.range)
        default:
            throw error(.expectedCommand, "expected a command, found \(describe(token))", at: token.range)
        }
    }

    private mutating func wordStage(name: String, nameRange: SourceRange, syntax: CommandSyntax) throws(Diagnostic)
        -> Stage
    {
        var arguments: [Argument] = []
        while true {
            let token = try current()
            if token.endsStage { break }
            arguments.append(try argument(syntax: syntax))
        }
        return Stage(
            name: name, nameRange: nameRange, range: SourceRange(lowerBound: nameRange.lowerBound, upperBound: lastEnd),
            arguments: arguments)
    }

    private mutating func argument(syntax: CommandSyntax) throws(Diagnostic) -> Argument {
        let token = try current()
        switch token.kind {
        case .equals:
            throw error(
                .unexpectedToken, "unexpected '=' (write ATTR=VALUE without spaces around '=')", at: token.range)
        case .word(let text) where ParserState.isFlag(text):
            return try flag(syntax: syntax)
        case .word(let text):
            try consume()
            guard lexer.currentByte == UInt8(ascii: "=") else {
                let expr = try value(startingWith: token)
                return Argument(kind: .positional(expr), range: expr.range)
            }
            let next = try current()
            guard case .equals = next.kind, !next.spaceBefore else {
                let expr = try value(startingWith: token)
                return Argument(kind: .positional(expr), range: expr.range)
            }
            try consume()
            return try valueAfterEquals(text, from: token, spaceHint: true) { .assignment(name: text, value: $0) }
        case .string(let parts, _) where lexer.currentByte == UInt8(ascii: "="):
            // A quoted attribute path before `=`: `'emails[type eq "work"].value'=x`.
            guard let name = ParserState.plainText(parts) else { break }
            try consume()
            try consume()
            return try valueAfterEquals(name, from: token) { .assignment(name: name, value: $0) }
        default:
            break
        }
        let expr = try value()
        return Argument(kind: .positional(expr), range: expr.range)
    }

    /// The value right after `NAME=` (no space between), as an argument that starts at `token`.
    private mutating func valueAfterEquals(
        _ text: String, from token: Token, spaceHint: Bool = false, _ kind: (Expr) -> ArgumentKind
    ) throws(Diagnostic) -> Argument {
        let next = try current()
        guard next.isValue, !next.spaceBefore else {
            let hint = spaceHint && next.isValue ? " (no spaces around '=')" : ""
            throw error(.expectedValue, "expected a value after '\(text)='\(hint)", at: next.range)
        }
        let expr = try value()
        return Argument(kind: kind(expr), range: SourceRange(lowerBound: token.range.lowerBound, upperBound: lastEnd))
    }

    /// The text of a string without variables (`nil` when it has one, or is empty).
    static func plainText(_ parts: [StringPart]) -> String? {
        var out = ""
        for part in parts {
            guard case .text(let t) = part else { return nil }
            out += t
        }
        return out.isEmpty ? nil : out
    }

    /// A `--name`, `--name=VALUE` or (for a valued flag) `--name VALUE` at the current token.
    ///
    /// Looks at raw bytes before lexing what follows a flag that takes no value, so that a filter after it is never
    /// lexed as words.
    private mutating func flag(syntax: CommandSyntax) throws(Diagnostic) -> Argument {
        let token = try consume()
        guard case .word(let text) = token.kind else {
            throw error(.unexpectedToken, "expected a flag", at: token.range)
        }
        let name = String(text.dropFirst(2))
        if lexer.currentByte == UInt8(ascii: "=") {
            try consume()
            return try valueAfterEquals(text, from: token) { .flag(name: name, value: $0) }
        }
        if syntax.valuedFlags.contains(name) {
            let next = try current()
            guard next.isValue, !next.isFlagWord else {
                throw error(.expectedValue, "expected a value after '\(text)'", at: next.range)
            }
            let expr = try value()
            return Argument(
                kind: .flag(name: name, value: expr),
                range: SourceRange(lowerBound: token.range.lowerBound, upperBound: lastEnd))
        }
        if let b = lexer.currentByte, !Lexer.isBlank(b), b != UInt8(ascii: "\n"), b != UInt8(ascii: "#"),
            b != UInt8(ascii: "|"), b != UInt8(ascii: ";"), b != UInt8(ascii: "\\")
        {
            throw error(
                .missingSpace, "missing space after '\(text)'",
                at: SourceRange(lowerBound: token.range.upperBound, upperBound: token.range.upperBound + 1))
        }
        return Argument(kind: .flag(name: name, value: nil), range: token.range)
    }

    private mutating func filterStage(name: String, nameRange: SourceRange, syntax: CommandSyntax) throws(Diagnostic)
        -> Stage
    {
        var arguments: [Argument] = []
        // Leading flags. Nothing after the command name is lexed as words unless it is a flag.
        while lookahead == nil, try lexer.atFlag() {
            arguments.append(try flag(syntax: syntax))
        }
        var scan: FilterScan?
        if lookahead == nil {
            scan = try lexer.scanFilter()
            if let scan { lastEnd = scan.range.upperBound }
            while lookahead == nil, try lexer.atFlag() {
                arguments.append(try flag(syntax: syntax))
            }
        }
        let next = try current()
        guard next.endsStage else {
            let message =
                scan == nil
                ? "unexpected \(describe(next)) after the flags of '\(name)'"
                : "unexpected \(describe(next)) after the flags of '\(name)' (write the filter before or after all "
                    + "flags)"
            throw error(.unexpectedToken, message, at: next.range)
        }
        var filter: SCIMFilter?
        if let scan {
            do {
                filter = try FilterParser.parse(scan.text, allowVariables: true)
            } catch {
                let length = scan.range.count
                let offset = min(max(0, error.offset), length)
                let end = min(length, offset + max(0, error.length))
                throw Diagnostic.make(
                    .invalidFilter, error.message,
                    at: SourceRange(
                        lowerBound: scan.range.lowerBound + offset, upperBound: scan.range.lowerBound + end),
                    in: file)
            }
        }
        return Stage(
            name: name, nameRange: nameRange, range: SourceRange(lowerBound: nameRange.lowerBound, upperBound: lastEnd),
            arguments: arguments, filter: filter, filterText: scan?.text, filterRange: scan?.range)
    }
}

extension Token {
    /// Whether the token is a `--name` word.
    fileprivate var isFlagWord: Bool {
        if case .word(let text) = kind { return ParserState.isFlag(text) }
        return false
    }
}

extension ParserState {
    fileprivate static func isFlag(_ word: String) -> Bool { word.hasPrefix("--") && word.utf8.count > 2 }
}
