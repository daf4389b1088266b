import SCIMClient
import SCIMCore

/// A source of records: one stage of a running pipeline, pulling from the stage before it.
///
/// Pull-based stages give backpressure for free: a `find` fetches its next page only when a later stage
/// asks for more, so a pipeline holds at most a page plus the requests in flight.
public protocol RecordSource: AnyObject {
    /// The next record, or `nil` at the end. Throws ``ScriptError`` to abort the pipeline.
    func next() async throws -> Record?
}

/// A runnable example in a command's help; the test suite runs every one against the sandbox.
public struct CommandExample: Sendable {
    /// The statement(s) to run.
    public var source: String
    /// What it does.
    public var summary: String

    /// An example.
    public init(_ source: String, _ summary: String) {
        self.source = source
        self.summary = summary
    }
}

/// Where a command sits in `help`.
public enum CommandCategory: String, Sendable, CaseIterable {
    case server = "Server (sends requests)"
    case local = "Local (no requests)"
    case output = "Output"
    case custom = "Added by the host program"
}

/// A pipeline stage command: its name, its ``CommandSignature``, help and behaviour — all in one file.
///
/// The signature drives parsing, completion, the usage line of `help`, `explain`, dry runs and the pipeline's
/// rules, so nothing else in the runtime needs to know a command by name. Embedders add their own with
/// ``Interpreter/register(_:)``; they are treated exactly like the built-in ones. The interpreter resolves
/// arguments (variables, strings) before calling ``makeStage(_:input:)``.
public protocol Command: Sendable {
    /// The name typed in a pipeline.
    var name: String { get }
    /// Other names for the same command.
    var aliases: [String] { get }
    /// Its arguments, flags, input, output and server access.
    var signature: CommandSignature { get }
    /// One line for the command table.
    var summary: String { get }
    /// Longer help, including the SCIM request(s) it sends.
    var help: String { get }
    /// Runnable examples.
    var examples: [CommandExample] { get }
    /// Where it is listed in `help`.
    var category: CommandCategory { get }

    /// Builds the running stage.
    func makeStage(_ invocation: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource

    /// The requests the stage would send, for `explain`; sends nothing. `invocation.isFirst` is false when the
    /// stage has input.
    func requests(for invocation: StageInvocation, client: SCIMClient) throws -> [PlannedRequest]

    /// For a mutating command: the top-level attributes (lowercased) its writes can change, or `nil` when that
    /// is not known. A `find` before it pages plainly when none of them is one its filter tests or `active`
    /// (nobody can leave the listing); otherwise, or with `nil`, it pages so that users leaving are not skipped.
    func attributesWritten(by invocation: StageInvocation) -> Set<String>?

    // Derived from the signature. They stay requirements so that a command written before signatures existed
    // (declaring them itself) keeps its meaning; new commands declare a signature only.

    /// How its arguments are parsed: ``CommandSignature/syntax``.
    var syntax: CommandSyntax { get }
    /// Whether it sends writes: the signature's access is `.writes`.
    var isMutating: Bool { get }
    /// Whether it must be the first stage: the signature's input is `.none`.
    var isSourceOnly: Bool { get }
    /// Whether it prints records and passes none on: the signature's output is `.printed`.
    var isOutput: Bool { get }
}

extension Command {
    public var aliases: [String] { [] }
    public var signature: CommandSignature {
        var unchecked = CommandSignature()
        unchecked.checksArguments = false
        return unchecked
    }
    public var category: CommandCategory { .custom }
    public var examples: [CommandExample] { [] }
    public var help: String { summary }
    public func requests(for invocation: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] { [] }
    public func attributesWritten(by invocation: StageInvocation) -> Set<String>? { nil }
    public var syntax: CommandSyntax { signature.syntax }
    public var isMutating: Bool { signature.access == .writes }
    public var isSourceOnly: Bool { signature.input == .none }
    public var isOutput: Bool { signature.output == .printed }
    /// Whether, as the last stage with the default table output, its one value is printed bare, like `wc -l`
    /// (`count` prints `6`, not a table; `count | table` still gives the table).
    public var printsBareValue: Bool { signature.output == .value }

    /// The usage line `help` shows, made from the signature: `find [--limit N] [FILTER]`.
    public var usage: String { signature.usage(name) }
}

/// A resolved argument: its value and where it was written.
public struct ResolvedArgument: Sendable {
    /// What kind of argument.
    public enum Kind: Sendable {
        /// A plain word or value.
        case positional
        /// `NAME=VALUE`.
        case assignment(String)
        /// `--NAME` or `--NAME VALUE`.
        case flag(String)
    }

    /// The kind.
    public var kind: Kind
    /// The value (`true` for a flag without one).
    public var value: JSONValue
    /// Whether the value was written as a quoted string (so `"true"` stays a string).
    public var quoted: Bool
    /// Where it was written.
    public var range: SourceRange
}

/// Everything a command needs to build its stage.
public struct StageInvocation: Sendable {
    /// The stage as written.
    public var stage: Stage
    /// Its arguments, with variables resolved.
    public var arguments: [ResolvedArgument]
    /// The filter with variables resolved, for filter-style stages.
    public var filter: SCIMFilter?
    /// The pipeline's shared context.
    public var context: PipelineContext
    /// Whether this is the first stage.
    public var isFirst: Bool
    /// Whether a later stage in the pipeline sends writes.
    public var mutatesDownstream: Bool
    /// The attributes the later stages' writes can change (lowercased), `nil` when unknown or when none write
    /// (see ``Command/attributesWritten(by:)``).
    public var writtenDownstream: Set<String>? = nil
    /// The attributes of an earlier `select` whose record shape reaches this stage unchanged, if any.
    public var selectedColumns: [String]? = nil

    /// The positional arguments in order.
    public var positionals: [ResolvedArgument] {
        arguments.filter { if case .positional = $0.kind { true } else { false } }
    }

    /// The value of a flag, if given.
    public func flag(_ name: String) -> ResolvedArgument? {
        arguments.first { if case .flag(let n) = $0.kind { n == name } else { false } }
    }

    /// The records to work on: the input, else one `{id}` per id argument (the signature's check allows only
    /// one of them).
    public func idsOrInput(_ input: (any RecordSource)?) -> any RecordSource {
        input ?? ArraySource(positionals.map { JSONObject([("id", .string($0.value.displayString))]) })
    }

    /// For `explain`: one request per id argument, else one for `{id}` (each input record).
    public func userRequests(_ make: (String) throws -> HTTPRequestData) rethrows -> [PlannedRequest] {
        let ids = positionals.map { $0.value.displayString }
        return try (ids.isEmpty ? ["{id}"] : ids).map { PlannedRequest("for user \($0)", try make($0)) }
    }

    /// The value of a whole-number flag (`--limit 5`), or `nil` when absent.
    public func wholeNumberFlag(_ name: String, minimum: Int = 0) throws -> Int? {
        guard let f = flag(name) else { return nil }
        guard let n = f.value.numberValue ?? Double(f.value.displayString), n >= Double(minimum), n == n.rounded(),
            n < 1e9
        else {
            throw error(
                "--\(name) needs a whole number\(minimum > 0 ? " of at least \(minimum)" : "")", at: f.range)
        }
        return Int(n)
    }

    /// An error pointing at this stage.
    public func error(_ message: String, at range: SourceRange? = nil) -> ScriptError {
        ScriptError(message, range: range ?? stage.range)
    }
}

/// A run-time error in a statement, with where it happened if known.
public struct ScriptError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for a person.
    public var message: String
    /// Where in the source, when a position is meaningful.
    public var range: SourceRange?

    /// An error.
    public init(_ message: String, range: SourceRange? = nil) {
        self.message = message
        self.range = range
    }

    public var description: String { message }
}
