import SCIMCore

/// A parsed script: its statements in order, and the source they came from.
public struct Script: Sendable {
    /// The statements, without empty ones (blank lines, comments, `;;`).
    public var statements: [Statement]
    /// The source the ranges point into.
    public var file: SourceFile

    /// A script from its statements and source.
    public init(statements: [Statement], file: SourceFile) {
        self.statements = statements
        self.file = file
    }
}

/// One statement: what it does, where it is, and its source text.
public struct Statement: Sendable {
    /// What the statement does.
    public var kind: StatementKind
    /// Its extent in the source (without the terminating newline or `;`, and without a trailing comment).
    public var range: SourceRange
    /// Its source text (the text of ``range``).
    public var text: String

    /// A statement from its parts.
    public init(kind: StatementKind, range: SourceRange, text: String) {
        self.kind = kind
        self.range = range
        self.text = text
    }
}

/// The kinds of statement.
public indirect enum StatementKind: Sendable {
    /// `set NAME = VALUE` (also `set NAME=VALUE`).
    case set(name: String, nameRange: SourceRange, value: Expr)
    /// `unset NAME`.
    case unset(name: String, nameRange: SourceRange)
    /// `vars`.
    case vars
    /// `let NAME = PIPELINE`.
    case letBinding(name: String, nameRange: SourceRange, pipeline: Pipeline)
    /// `source FILE`.
    case source(path: Expr)
    /// `echo ARGS...`.
    case echo([Expr])
    /// `help [TOPIC]`.
    case help(topic: String?)
    /// `explain PIPELINE`.
    case explain(Pipeline)
    /// `STAGE | STAGE | ...`.
    case pipeline(Pipeline)
}

/// Stages joined by `|`.
public struct Pipeline: Sendable {
    /// The stages, at least one.
    public var stages: [Stage]
    /// From the start of the first stage to the end of the last.
    public var range: SourceRange

    /// A pipeline from its stages and range.
    public init(stages: [Stage], range: SourceRange) {
        self.stages = stages
        self.range = range
    }
}

/// One stage of a pipeline: a command name and its arguments (or filter).
public struct Stage: Sendable {
    /// The command name, or the variable name when ``isVariableSource`` is true.
    public var name: String
    /// Where the name is (for a variable source, the whole `$NAME`).
    public var nameRange: SourceRange
    /// The whole stage.
    public var range: SourceRange
    /// The arguments of a word-style stage, and the flags of a filter-style stage.
    public var arguments: [Argument]
    /// The parsed filter of a filter-style stage (`find`, `where`); `nil` when there is no filter text.
    public var filter: SCIMFilter?
    /// The filter text as passed to the filter parser (a `\` line continuation becomes spaces, so offsets still map).
    public var filterText: String?
    /// Where the filter text is.
    public var filterRange: SourceRange?
    /// Whether the stage is `$NAME` as the first stage of a pipeline, feeding on the records of a `let`.
    public var isVariableSource: Bool

    /// A stage from its parts.
    public init(
        name: String,
        nameRange: SourceRange,
        range: SourceRange,
        arguments: [Argument] = [],
        filter: SCIMFilter? = nil,
        filterText: String? = nil,
        filterRange: SourceRange? = nil,
        isVariableSource: Bool = false
    ) {
        self.name = name
        self.nameRange = nameRange
        self.range = range
        self.arguments = arguments
        self.filter = filter
        self.filterText = filterText
        self.filterRange = filterRange
        self.isVariableSource = isVariableSource
    }
}

/// One argument of a stage.
public struct Argument: Sendable {
    /// What the argument is.
    public var kind: ArgumentKind
    /// Where it is.
    public var range: SourceRange

    /// An argument from its kind and range.
    public init(kind: ArgumentKind, range: SourceRange) {
        self.kind = kind
        self.range = range
    }
}

/// The kinds of argument.
public enum ArgumentKind: Sendable {
    /// A value on its own: `bjensen`, `"Barbara Jensen"`, `$id`, `10`.
    case positional(Expr)
    /// `ATTR=VALUE`, written without spaces around `=`.
    case assignment(name: String, value: Expr)
    /// `--name`, `--name=VALUE`, or `--name VALUE` for a flag the command declares as valued.
    case flag(name: String, value: Expr?)
}

/// A value in the source.
public indirect enum Expr: Sendable {
    /// `true`, `false`, `null` or a JSON number.
    case literal(JSONValue, range: SourceRange)
    /// Any other unquoted word: `bjensen@example.com`, `./users.csv`, `desc`.
    case bareWord(String, range: SourceRange)
    /// `"..."` (with interpolation) or `'...'` (raw: a single text part); an empty string has no parts.
    case string(parts: [StringPart], raw: Bool, range: SourceRange)
    /// `$name`, `${name}`, or a script argument `$1`.
    case variable(String, range: SourceRange)
    /// `$env.NAME` (or `${env.NAME}`): an environment variable.
    case env(String, range: SourceRange)

    /// Where the expression is.
    public var range: SourceRange {
        switch self {
        case .literal(_, let range), .bareWord(_, let range), .string(_, _, let range), .variable(_, let range),
            .env(_, let range):
            return range
        }
    }
}

/// A piece of a double-quoted string.
public enum StringPart: Sendable, Hashable {
    /// Literal text, escapes already resolved.
    case text(String)
    /// An interpolated `$name` / `${name}` / `$1`; the range covers the reference, `$` included.
    case variable(String, range: SourceRange)
    /// An interpolated `$env.NAME` / `${env.NAME}`.
    case env(String, range: SourceRange)
}

/// How a command's arguments are written, which the parser must know before it can find where a stage ends.
public struct CommandSyntax: Sendable {
    /// Word-style stages take arguments; filter-style stages take leading or trailing flags and a SCIM filter.
    public enum Style: Sendable, Hashable {
        /// Arguments: values, `ATTR=VALUE` assignments and `--flags`.
        case words
        /// Leading or trailing `--flags`, and the rest of the stage as a SCIM filter.
        case filter
    }

    /// The argument style.
    public var style: Style
    /// The flags (without `--`) that take a value, so `--limit 5` reads `5` as the flag's value.
    public var valuedFlags: Set<String>

    /// A syntax from its style and valued flags.
    public init(style: Style = .words, valuedFlags: Set<String> = []) {
        self.style = style
        self.valuedFlags = valuedFlags
    }

    /// A word-style command with no valued flags (what unknown commands are parsed as).
    public static let words = CommandSyntax(style: .words)
    /// A filter-style command with no valued flags.
    public static let filter = CommandSyntax(style: .filter)
}
