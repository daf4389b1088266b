import SCIMClient
import SCIMCore

/// What an argument is. It decides how the parser reads a stage, what completion offers and how `help` names it.
public enum ArgumentType: Sendable, Hashable {
    /// A SCIM filter, the rest of the stage (`find`, `where`). The parser reads such a command filter-style.
    case filter
    /// An attribute path: `userName`, `emails.value`, `emails[type eq "work"]`.
    case attribute
    /// `ATTR=VALUE`: an attribute and its value (`create`).
    case assignment
    /// A patch operation: `ATTR=VALUE`, a bare attribute, or one of the words `add`, `replace` and `remove`.
    case patchOperation
    /// A user id.
    case id
    /// A file path.
    case file
    /// A number.
    case number
    /// A sort direction after an attribute: `asc` or `desc`.
    case direction
    /// One of these words.
    case oneOf([String])
    /// A connection profile's name.
    case profile
    /// A group's name.
    case groupName
    /// Any value: text, a number, `true`, `false` or `null`.
    case value

    /// The placeholder `help` shows for it when the signature names none.
    public var placeholder: String {
        switch self {
        case .filter: return "FILTER"
        case .attribute: return "ATTR"
        case .assignment: return "ATTR=VALUE"
        case .patchOperation: return "OPS"
        case .id: return "ID"
        case .file: return "FILE"
        case .number: return "N"
        case .direction: return "asc|desc"
        case .oneOf(let words): return words.joined(separator: "|")
        case .profile: return "PROFILE"
        case .groupName: return "GROUP"
        case .value: return "VALUE"
        }
    }
}

/// Everything the runtime needs to know about a command without running it: its arguments and their kinds, its
/// flags, what it reads and passes on, and whether it talks to the server.
///
/// One declaration drives the parser (``syntax``), completion (the argument kinds), the usage line of `help`
/// (``usage(_:)``), `explain` and dry runs (``access``), and the pipeline's rules: a command without input must come
/// first, one that prints must come last, and `select`'s columns survive the stages that pass records on unchanged.
/// Build one like nushell's `Signature`:
///
/// ```swift
/// CommandSignature(input: .none, access: .reads).flag("limit", .number).optional(.filter)
/// ```
public struct CommandSignature: Sendable {
    /// Whether a positional argument must be given.
    public enum Presence: Sendable, Hashable {
        /// Always.
        case required
        /// Never.
        case optional
        /// Only when the stage has no input, and then it is required; with input the records say which users
        /// (`patch ID OPS...` vs `… | patch OPS...`).
        case withoutInput
        /// Required without input, optional with it (`create ATTR=VALUE...` vs `… | create [ATTR=VALUE...]`).
        case requiredWithoutInput
    }

    /// A positional argument.
    public struct Positional: Sendable {
        /// The name `help` shows: `ID`, `ATTR`.
        public var placeholder: String
        /// What it is.
        public var kind: ArgumentType
        /// Whether it must be given.
        public var presence: Presence
        /// Whether it may be given more than once (`ID...`).
        public var isRepeated: Bool

        /// Whether an `ATTR=VALUE` argument can stand for it: an assignment, a patch operation, or an argument
        /// whose placeholder shows `=` (`lookup ATTR[=FIELD]`).
        var acceptsAssignment: Bool {
            kind == .assignment || kind == .patchOperation || placeholder.contains("=")
        }
    }

    /// A `--name` or `--name VALUE` flag.
    public struct Flag: Sendable {
        /// The name without `--`.
        public var name: String
        /// The kind of its value; `nil` for a switch that takes none.
        public var value: ArgumentType?
        /// The value's name in `help`.
        public var placeholder: String
    }

    /// What a stage reads.
    public enum Input: Sendable, Hashable {
        /// Nothing: it must be the first stage (`find`, `import`).
        case none
        /// The records of the stage before it.
        case records
        /// Either input records or arguments that name what to work on (`get ID...` or `… | get`).
        case recordsOrArguments
    }

    /// What a stage passes on.
    public enum Output: Sendable, Hashable {
        /// New records.
        case records
        /// Some of its input records, unchanged in shape (`where`, `sort`, `first`, `save`).
        case sameRecords
        /// Its input records cut down to the attributes its arguments name, which become the columns of `table` and
        /// `csv` output (`select`).
        case columns
        /// Nothing: it prints what it gets (or lists something) and must be the last stage.
        case printed
        /// One record with one value (`count`): as the last stage, with the default table output, the value is
        /// printed bare, like `wc -l`.
        case value
    }

    /// Whether a stage talks to the server.
    public enum Access: Sendable, Hashable {
        /// It sends no request.
        case none
        /// It sends requests that change nothing (GET).
        case reads
        /// It sends writes; dry runs and the confirmation plan print what it would change instead.
        case writes
    }

    /// The positional arguments in order.
    public var positionals: [Positional] = []
    /// The flags.
    public var flags: [Flag] = []
    /// Whether the positional arguments may be given again as a group (`sort ATTR [desc] [ATTR [desc]]...`).
    public var repeatsPositionals = false
    /// What it reads.
    public var input: Input
    /// What it passes on.
    public var output: Output
    /// Whether it talks to the server.
    public var access: Access
    /// Whether it may stop reading its input early (`first`): placed after a write it cannot limit the writes.
    public var limitsInput = false
    /// Whether the runtime checks a stage's arguments against it (``check(_:name:hasInput:)``); not for the
    /// signature a command written before signatures gets by default.
    var checksArguments = true

    /// A signature with no arguments yet; add them with ``required(_:_:)``, ``optional(_:_:)``, ``flag(_:_:_:)``.
    public init(
        input: Input = .records, output: Output = .records, access: Access = .none, repeatsPositionals: Bool = false,
        limitsInput: Bool = false
    ) {
        self.input = input
        self.output = output
        self.access = access
        self.repeatsPositionals = repeatsPositionals
        self.limitsInput = limitsInput
    }

    /// Adds a positional argument.
    public func positional(
        _ kind: ArgumentType, _ placeholder: String? = nil, presence: Presence, repeated: Bool = false
    ) -> Self {
        var copy = self
        copy.positionals.append(
            Positional(
                placeholder: placeholder ?? kind.placeholder, kind: kind, presence: presence, isRepeated: repeated))
        return copy
    }

    /// Adds a required positional argument.
    public func required(_ kind: ArgumentType, _ placeholder: String? = nil, repeated: Bool = false) -> Self {
        positional(kind, placeholder, presence: .required, repeated: repeated)
    }

    /// Adds an optional positional argument.
    public func optional(_ kind: ArgumentType, _ placeholder: String? = nil, repeated: Bool = false) -> Self {
        positional(kind, placeholder, presence: .optional, repeated: repeated)
    }

    /// Adds a flag; `value` is the kind of its value, `nil` for a switch.
    public func flag(_ name: String, _ value: ArgumentType? = nil, _ placeholder: String? = nil) -> Self {
        var copy = self
        copy.flags.append(Flag(name: name, value: value, placeholder: placeholder ?? value?.placeholder ?? ""))
        return copy
    }

    /// The signatures of `commands` by lowercased name and alias.
    public static func table(_ commands: [any Command]) -> [String: CommandSignature] {
        var table: [String: CommandSignature] = [:]
        for command in commands {
            for name in [command.name] + command.aliases { table[name.lowercased()] = command.signature }
        }
        return table
    }

    /// How the parser reads the stage: filter-style when an argument is a filter; the flags that take a value.
    public var syntax: CommandSyntax {
        CommandSyntax(
            style: positionals.contains { $0.kind == .filter } ? .filter : .words,
            valuedFlags: Set(flags.filter { $0.value != nil }.map(\.name)))
    }

    /// The positional arguments a stage takes with or without input.
    public func positionals(hasInput: Bool) -> [Positional] {
        positionals.filter { !(hasInput && $0.presence == .withoutInput) }
    }

    /// The usage line of `help`: `find [--limit N] [FILTER]`, `… | patch OPS...   or   patch ID OPS...`.
    public func usage(_ name: String) -> String {
        switch input {
        case .none: return form(name, hasInput: false)
        case .records: return "… | " + form(name, hasInput: true)
        case .recordsOrArguments: return "… | " + form(name, hasInput: true) + "   or   " + form(name, hasInput: false)
        }
    }

    /// Refuses what the signature does not allow, before the stage is built or explained: an unknown flag, an
    /// `ATTR=VALUE` where no argument takes one, a missing filter, too many or too few arguments. The message says
    /// what is wrong and ends with the usage line.
    public func check(_ inv: StageInvocation, name: String, hasInput: Bool) throws {
        guard checksArguments else { return }
        let usage = usage(name)
        var given: [ResolvedArgument] = []
        for arg in inv.arguments {
            switch arg.kind {
            case .flag(let f) where !flags.contains { $0.name == f }:
                throw inv.error("\(inv.stage.name) has no option --\(f): \(usage)", at: arg.range)
            case .assignment(let a) where !positionals.contains { $0.acceptsAssignment }:
                throw inv.error("\(inv.stage.name) takes no ATTR=VALUE argument (\(a)=…): \(usage)", at: arg.range)
            case .flag: continue
            default: given.append(arg)
            }
        }
        if positionals.contains(where: { $0.kind == .filter && $0.presence == .required }), inv.filter == nil {
            throw inv.error("\(inv.stage.name) needs a filter: \(usage)")
        }
        let slots = positionals(hasInput: hasInput).filter { $0.kind != .filter }
        let required = slots.filter { $0.presence == .required || (!hasInput && $0.presence != .optional) }
        let unbounded = repeatsPositionals || slots.contains { $0.isRepeated }
        if !unbounded, given.count > slots.count {
            let extra = given[slots.count]
            if slots.isEmpty, hasInput, input == .recordsOrArguments {
                throw inv.error(
                    "\(inv.stage.name) takes arguments or input records, not both: \(usage)", at: extra.range)
            }
            throw inv.error(
                slots.isEmpty
                    ? "\(inv.stage.name) takes no arguments" + (flags.isEmpty ? "" : ": \(usage)")
                    : "\(inv.stage.name) takes at most \(slots.count) argument\(slots.count == 1 ? "" : "s"): \(usage)",
                at: extra.range)
        }
        if given.count < required.count {
            let missing = required.dropFirst(given.count).map { $0.placeholder + ($0.isRepeated ? "..." : "") }
            throw inv.error(
                "\(inv.stage.name) needs "
                    + (!hasInput && input == .recordsOrArguments
                        ? "input records or arguments" : missing.joined(separator: " ")) + ": \(usage)")
        }
    }

    private func form(_ name: String, hasInput: Bool) -> String {
        let arguments = positionals(hasInput: hasInput).map { p -> String in
            let text = p.placeholder + (p.isRepeated ? "..." : "")
            let optional = p.presence == .optional || (hasInput && p.presence == .requiredWithoutInput)
            return optional ? "[\(text)]" : text
        }
        var words = arguments.isEmpty ? [] : [arguments.joined(separator: " ")]
        if repeatsPositionals, let group = words.first { words.append("[\(group)]...") }
        let flagWords = flags.map { "[--\($0.name)\($0.value == nil ? "" : " " + $0.placeholder)]" }
        // A filter runs to the end of the stage, so flags are shown before it.
        words = syntax.style == .filter ? flagWords + words : words + flagWords
        return ([name] + words).joined(separator: " ")
    }
}

/// A request a stage would send, as `explain` shows it.
public struct PlannedRequest: Sendable {
    /// For which users: `for user 2819c223`, `for each input record`.
    public var label: String
    /// The request.
    public var request: HTTPRequestData

    /// A planned request.
    public init(_ label: String, _ request: HTTPRequestData) {
        self.label = label
        self.request = request
    }
}
