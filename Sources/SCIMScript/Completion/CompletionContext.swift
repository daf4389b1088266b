import Foundation

/// Everything completion may offer, gathered by the front end before each Tab; completion itself never touches the
/// network or the session.
public struct CompletionContext: Sendable {
    /// Stage names offered at the start of a stage (`find`, `patch`, ...).
    public var commands: [String]
    /// The signature of each command by lowercased name and alias: what its arguments are decides what is offered.
    public var signatures: [String: CommandSignature]
    /// Statement names offered at the start of a statement only (`set`, `let`, `help`, ...).
    public var statements: [String]
    /// Attribute paths (`userName`, `emails.value`, ...): the standard ones plus any seen from the server.
    /// Sub-attributes inside `emails[...]` come from the paths that start with `emails.`.
    public var attributes: [String]
    /// Session variable names (without `$`), including names bound by `let`.
    public var variables: [String]
    /// Topics offered after `help`.
    public var helpTopics: [String]
    /// User ids seen in this session, offered after `get`, `delete`, `deactivate` and in `id eq "...`.
    public var knownIds: [String]
    /// User names seen in this session, offered in `userName eq "...`.
    public var knownUserNames: [String]
    /// Paths starting with the given text (directories end in `/`), for `source`, `import` and `save`.
    public var fileLister: @Sendable (String) -> [String]
    /// Connection profile names, offered after `connect`.
    public var profileNames: [String]

    /// A context with the given lists; every argument has a sensible default.
    public init(
        commands: [String] = CompletionContext.standardCommands,
        signatures: [String: CommandSignature] = CommandSignature.table(BuiltinCommands.all),
        statements: [String] = CompletionContext.standardStatements,
        attributes: [String] = CompletionContext.standardAttributes,
        variables: [String] = [],
        helpTopics: [String] = [],
        knownIds: [String] = [],
        knownUserNames: [String] = [],
        fileLister: @escaping @Sendable (String) -> [String] = { _ in [] },
        profileNames: [String] = []
    ) {
        self.commands = commands
        self.signatures = signatures
        self.statements = statements
        self.attributes = attributes
        self.variables = variables
        self.helpTopics = helpTopics
        self.knownIds = knownIds
        self.knownUserNames = knownUserNames
        self.fileLister = fileLister
        self.profileNames = profileNames
    }

    /// The language's stage names: the built-in commands and their aliases.
    public static let standardCommands = BuiltinCommands.all.flatMap { [$0.name] + $0.aliases }.sorted()

    /// The statement names of the language and the interactive shell.
    public static let standardStatements = [
        "echo", "exit", "explain", "help", "history", "let", "set", "source", "unset", "vars",
    ]

    /// The attributes of a SCIM core User that ODM serves.
    public static let standardAttributes = [
        "active", "displayName", "emails", "emails.primary", "emails.type", "emails.value", "externalId", "id",
        "meta.created", "meta.lastModified", "meta.location", "meta.resourceType", "name.familyName",
        "name.formatted", "name.givenName", "userName",
    ]

    /// Session variables with a meaning to the interpreter, offered after `set` and `unset`.
    public static let settingNames = [
        "api_token", "base_path", "concurrency", "host", "on_error", "output", "page_size", "token",
    ]

    /// The values offered after `set NAME =` for settings with a fixed set of values.
    public static let settingValues: [String: [String]] = [
        "output": ["csv", "json", "jsonl", "table"],
        "on_error": ["continue", "stop"],
    ]

    /// The SCIM filter comparison operators (RFC 7644 §3.4.2.2), `pr` included.
    public static let filterOperators = ["co", "eq", "ew", "ge", "gt", "le", "lt", "ne", "pr", "sw"]

    /// A file lister over the real file system: lists the directory named by the text before its last `/`
    /// (relative to `currentDirectory`; a leading `~/` means `homeDirectory`), keeps the entries whose name starts
    /// with the rest (hidden ones only when that rest starts with `.`), and returns them with the typed directory
    /// part in front and `/` after directories, sorted. Unreadable directories give no entries.
    public static func directoryLister(
        currentDirectory: String,
        homeDirectory: String? = nil
    ) -> @Sendable (String) -> [String] {
        { typed in
            let slash = typed.lastIndex(of: "/")
            let directoryPart = slash.map { String(typed[...$0]) } ?? ""
            let namePrefix = slash.map { String(typed[typed.index(after: $0)...]) } ?? typed
            var directory: String
            if directoryPart.hasPrefix("/") {
                directory = directoryPart
            } else if directoryPart.hasPrefix("~/"), let homeDirectory {
                directory = homeDirectory + "/" + directoryPart.dropFirst(2)
            } else {
                directory = currentDirectory + "/" + directoryPart
            }
            if directory.isEmpty { directory = "/" }
            let manager = FileManager.default
            guard let names = try? manager.contentsOfDirectory(atPath: directory) else { return [] }
            var result: [String] = []
            for name in names where name.hasPrefix(namePrefix) {
                if name.hasPrefix("."), !namePrefix.hasPrefix(".") { continue }
                var isDirectory: ObjCBool = false
                let full = directory.hasSuffix("/") ? directory + name : directory + "/" + name
                let exists = manager.fileExists(atPath: full, isDirectory: &isDirectory)
                result.append(directoryPart + name + (exists && isDirectory.boolValue ? "/" : ""))
            }
            return result.sorted()
        }
    }
}

/// The candidates for the word before the cursor and where that word is.
public struct CompletionResult: Sendable, Equatable {
    /// What kind of word the cursor is on, which decides the candidates.
    public enum Position: Sendable, Equatable {
        /// Nothing sensible to offer (inside a comment, a new name, an unknown stage's arguments).
        case none
        /// The start of a statement: statements and commands.
        case statementStart
        /// The start of a later stage (after `|`, `explain`, `let NAME =`): commands.
        case stageStart
        /// An attribute path in a filter (with `not`), or a sub-attribute inside `attr[...]`.
        case filterAttribute
        /// A comparison operator after an attribute in a filter.
        case filterOperator
        /// The value of a comparison: quoted user names or ids seen, `true`/`false`.
        case filterValue
        /// After a complete comparison: `and`, `or`.
        case filterLogical
        /// An attribute for `select`, `sort` or `create`.
        case attribute
        /// The direction after `sort ATTR`.
        case sortDirection
        /// A patch operation: an attribute or `add`/`replace`/`remove`.
        case patchOperation
        /// The value after `ATTR=` in `patch` or `create`.
        case assignmentValue
        /// A user id after `get`, `delete`, `deactivate`.
        case userId
        /// A flag of the stage's command, after `--`.
        case flag
        /// One of the fixed words an argument takes.
        case keyword
        /// A variable after `$` (also inside a double-quoted string).
        case variable
        /// A file name after `source`, `import`, `save`.
        case file
        /// A help topic after `help`.
        case helpTopic
        /// A connection profile's name, after `connect`.
        case profileName
        /// A variable name after `set` or `unset`.
        case settingName
        /// A value after `set NAME =`.
        case settingValue
    }

    /// The texts that may replace the word, sorted and without duplicates.
    public var candidates: [String]
    /// The UTF-8 byte offsets of the word being replaced; it always ends at the cursor.
    public var range: Range<Int>
    /// Whether a unique candidate should be followed by a space (false for variables, so `.field` can follow).
    public var appendsSpace: Bool
    /// The kind of word completed.
    public var position: Position

    /// A result offering `candidates` for the text at `range`.
    public init(candidates: [String], range: Range<Int>, appendsSpace: Bool = true, position: Position) {
        self.candidates = candidates
        self.range = range
        self.appendsSpace = appendsSpace
        self.position = position
    }
}
