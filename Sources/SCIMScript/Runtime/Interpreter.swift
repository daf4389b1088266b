import SCIMClient
import SCIMCore

#if canImport(Glibc)
    import Glibc
#endif

/// The outcome of running text in an interpreter.
public struct RunResult: Sendable {
    /// How it ended.
    public enum Status: Sendable, Equatable {
        /// Every statement succeeded.
        case success
        /// A statement failed at run time.
        case failed
        /// The text did not parse (nothing ran).
        case parseError
        /// Interrupted (Ctrl-C).
        case cancelled
    }

    /// How it ended.
    public var status: Status
    /// The records of the last pipeline statement when they were not printed (see ``Interpreter/evaluate(_:name:)``).
    public var records: [Record]
    /// The parse error, for `.parseError`.
    public var diagnostic: Diagnostic?

    /// The process exit code scimsh uses: 0 success, 1 run-time failure, 2 parse error, 130 interrupted.
    public var exitCode: Int32 {
        switch status {
        case .success: return 0
        case .failed: return 1
        case .parseError: return 2
        case .cancelled: return 130
        }
    }
}

/// The scimsh language interpreter: parses and runs statements in one session.
///
/// ```swift
/// let sink = CapturingSink()
/// let shell = Interpreter(sink: sink)
/// await shell.run(#"set host = "http://127.0.0.1:8080""#)
/// let users = try await shell.evaluate(#"find userName eq "bjensen""#)
/// ```
///
/// Library code never prints: data and messages go to the ``OutputSink``. One interpreter runs one statement
/// at a time; it may be used from any task.
public final class Interpreter: Sendable {
    let state: Locked<Session>
    let registry = Locked<[String: any Command]>([:])
    let clientCache = Locked<(key: SCIMConfiguration?, client: SCIMClient?)>((nil, nil))
    /// One transport (connection pool) per set of network settings, shared by every client that uses them.
    let transports = Locked<[TransportSettings: AsyncHTTPTransport]>([:])
    let observerBox = Locked<(any HTTPExchangeObserver)?>(nil)
    /// Where output goes.
    public let sink: any OutputSink
    /// Environment variables, for `$env.NAME`.
    public let environment: [String: String]
    /// Script arguments, for `$1`, `$2`, ...
    public let arguments: [String]
    /// Whether statements come from a person at a prompt (`on_error` then defaults to continue).
    public let interactive: Bool
    /// Users seen in this session (for completion).
    public let seen = SeenUsers()
    let sourceDepth = Locked<Int>(0)
    let confirmer = Locked<(@Sendable (String) async -> Bool)?>(nil)
    /// The write journal (`nil` when journaling is off).
    public let journal: Journal?
    /// What each server said at its discovery endpoints, read once per base URL (see ``discovery()``).
    public let discoveryCache = DiscoveryCache()

    /// A new interpreter with the built-in commands.
    ///
    /// - Parameters:
    ///   - sink: where data and messages go.
    ///   - environment: variables `$env.NAME` reads (defaults to the process environment).
    ///   - arguments: `$1`, `$2`, ... for scripts.
    ///   - interactive: whether a person types the statements.
    ///   - session: initial variables.
    ///   - journalPath: the write journal (default: `$SCIMSH_JOURNAL`, else the XDG state folder).
    public init(
        sink: any OutputSink, environment: [String: String]? = nil, arguments: [String] = [],
        interactive: Bool = false, session: Session = Session(), journalPath: String? = nil
    ) {
        self.sink = sink
        let env = environment ?? Interpreter.currentEnvironment()
        self.environment = env
        self.journal = (journalPath ?? Journal.standardPath(environment: env)).map(Journal.init(path:))
        self.arguments = arguments
        self.interactive = interactive
        self.state = Locked(session)
        for c in BuiltinCommands.all { register(c) }
        applyTrace()
    }

    /// Adds a command (or replaces one of the same name).
    public func register(_ command: any Command) {
        registry.withLock { r in
            r[command.name.lowercased()] = command
            for a in command.aliases { r[a.lowercased()] = command }
        }
    }

    /// The command registered under a name or alias.
    public func command(named name: String) -> (any Command)? {
        registry.withLock { $0[name.lowercased()] }
    }

    /// Every registered command once, by name.
    public var commands: [any Command] {
        let all = registry.current
        var seenNames = Set<String>()
        return all.values.filter { seenNames.insert($0.name).inserted }.sorted { $0.name < $1.name }
    }

    /// A copy of the session's variables.
    public var session: Session { state.current }

    /// Sets a variable as `set` would (no validation).
    public func setVariable(_ name: String, _ value: JSONValue) {
        state.withLock { $0.set(name, value) }
        applyTrace()
    }

    /// Watches every HTTP exchange from now on (for trace); `nil` stops.
    public func setObserver(_ observer: (any HTTPExchangeObserver)?) {
        observerBox.withLock { $0 = observer }
        clientCache.withLock { $0 = (nil, nil) }
    }

    /// The parser, knowing the syntax of every registered command.
    public var parser: Parser {
        let table = registry.current.mapValues(\.syntax)
        return Parser { name in table[name.lowercased()] }
    }

    /// Whether `text` is an incomplete statement (open string, trailing `|` or `\`): the REPL reads more.
    public func needsMoreInput(_ text: String) -> Bool {
        parser.needsMoreInput(text)
    }

    /// Installs (or removes) the trace observer the `trace` variable asks for and drops the cached client.
    func applyTrace() {
        let session = state.current
        let mode = TraceMode(rawValue: session.string("trace")?.lowercased() ?? "off") ?? .off
        let observer: (any HTTPExchangeObserver)? =
            mode == .off ? nil : TraceObserver(mode: mode, sink: sink, secrets: session.secretValues)
        observerBox.withLock { $0 = observer }
        clientCache.withLock { $0 = (nil, nil) }
    }

    /// Closes connections.
    public func shutdown() async {
        let open = transports.withLock { t in
            defer { t = [:] }
            return Array(t.values)
        }
        for t in open { await t.shutdown() }
    }

    // MARK: - Running

    /// Parses and runs text; data and messages go to the sink. Nothing runs if the text does not parse.
    @discardableResult
    public func run(_ text: String, name: String = "<input>") async -> RunResult {
        let script: Script
        do {
            script = try parseChecked(text, name: name)
        } catch {
            sink.writeMessage(state.current.scrub(error.render(color: sink.colorMessages)))
            return RunResult(status: .parseError, records: [], diagnostic: error)
        }
        return await run(script, collectLast: false)
    }

    /// Runs text and returns the records of its last pipeline instead of printing them.
    ///
    /// Throws ``ScriptError`` when a statement fails or the text does not parse.
    public func evaluate(_ text: String, name: String = "<input>") async throws -> [Record] {
        let script: Script
        do {
            script = try parseChecked(text, name: name)
        } catch {
            throw ScriptError(error.render(), range: error.range)
        }
        let result = await run(script, collectLast: true, reportErrors: false)
        switch result.status {
        case .success: return result.records
        case .cancelled: throw CancellationError()
        default: throw lastError.current ?? ScriptError("the statement failed")
        }
    }

    let lastError = Locked<ScriptError?>(nil)

    /// The text parsed, with unknown command names rejected before anything runs.
    func parseChecked(_ text: String, name: String) throws(Diagnostic) -> Script {
        let script = try parser.parse(SourceFile(name: name, text: text))
        try checkCommandNames(script)
        return script
    }

    /// Rejects unknown command names before anything runs, like any other error found by reading the text.
    func checkCommandNames(_ script: Script) throws(Diagnostic) {
        for statement in script.statements {
            let pipeline: Pipeline
            switch statement.kind {
            case .pipeline(let p), .explain(let p), .letBinding(_, _, let p): pipeline = p
            default: continue
            }
            for stage in pipeline.stages where !stage.isVariableSource && command(named: stage.name) == nil {
                throw Diagnostic.error(unknownCommand(stage.name), at: stage.nameRange, in: script.file)
            }
        }
    }

    /// `unknown command 'fnd' (did you mean 'find'?)`.
    func unknownCommand(_ name: String) -> String {
        let near = Suggest.closest(to: name, among: commands.flatMap { [$0.name] + $0.aliases })
        return "unknown command '\(name)'" + (near.map { " (did you mean '\($0)'?)" } ?? " (type 'help' for the list)")
    }

    func run(_ script: Script, collectLast: Bool, reportErrors: Bool = true) async -> RunResult {
        var status = RunResult.Status.success
        var records: [Record] = []
        for (i, statement) in script.statements.enumerated() {
            let isLast = i == script.statements.count - 1
            do {
                records = try await execute(statement, in: script.file, collect: collectLast && isLast)
            } catch is CancellationError {
                sink.statementFinished()
                return RunResult(status: .cancelled, records: [], diagnostic: nil)
            } catch {
                // A StatementFailed has reported why already (per-record failures).
                if !(error is StatementFailed) {
                    let e = error as? ScriptError ?? ScriptError("\(error)")
                    lastError.withLock { $0 = e }
                    if reportErrors { report(e, in: script.file) }
                }
                status = .failed
                if stopOnError { break }
            }
            sink.statementFinished()
            if Task.isCancelled { return RunResult(status: .cancelled, records: [], diagnostic: nil) }
        }
        return RunResult(status: status, records: records, diagnostic: nil)
    }

    var stopOnError: Bool {
        switch state.current.string("on_error")?.lowercased() {
        case "continue": return false
        case "stop": return true
        default: return !interactive
        }
    }

    /// Prints a run-time error like a compiler would, with secrets removed.
    func report(_ error: ScriptError, in file: SourceFile) {
        let session = state.current
        let d = Diagnostic.error(session.scrub(error.message), at: error.range, in: error.range == nil ? nil : file)
        sink.writeMessage(session.scrub(d.render(color: sink.colorMessages)))
    }

    /// Thrown when a statement failed and already reported why (per-record failures).
    struct StatementFailed: Error {}

    func execute(_ statement: Statement, in file: SourceFile, collect: Bool) async throws -> [Record] {
        switch statement.kind {
        case .set(let name, _, let expr):
            let value = try resolve(expr)
            try validateSetting(name, value, range: expr.range)
            state.withLock { session in
                session.set(name, value)
                // A token set by hand is not to be replaced by the profile's command when it expires.
                if Session.isSecret(name) { session.unset("token_command") }
            }
            if name == "insecure", state.current.flag("insecure") {
                sink.writeMessage(ConnectionProfile.insecureWarning + "\n")
            }
            if ["host", "base_path", "token", "api_token", "timeout", "trace", "proxy"].contains(name) {
                applyTrace()
            }
            return []
        case .unset(let name, _):
            state.withLock { $0.unset(name) }
            applyTrace()
            return []
        case .vars:
            sink.writeData(varsListing())
            return []
        case .echo(let exprs):
            let text = try exprs.map { try resolve($0).displayString }.joined(separator: " ")
            sink.writeData(state.current.scrub(text) + "\n")
            return []
        case .help(let topic) where topic?.lowercased() == "server":
            sink.writeData(try await HelpText.server(interpreter: self))
            return []
        case .help(let topic):
            sink.writeData(try HelpText.render(topic: topic, interpreter: self))
            return []
        case .source(let pathExpr):
            try await runSource(try resolve(pathExpr).displayString, range: pathExpr.range)
            return []
        case .letBinding(let name, _, let pipeline):
            let records = try await runPipeline(pipeline, collect: true, statement: statement.text)
            state.withLock { $0.bind(name, records: records) }
            sink.writeMessage("\(name): \(records.count) record\(records.count == 1 ? "" : "s")\n")
            return []
        case .explain(let pipeline):
            sink.writeData(try await explain(pipeline, file: file))
            return []
        case .pipeline(let pipeline):
            defer { adoptRefreshedToken() }
            return try await withStatementDeadline(range: statement.range) {
                try await self.runPipeline(pipeline, collect: collect, statement: statement.text)
            }
        }
    }

    /// Runs a statement within `statement_timeout` (when set): every request it sends gets the deadline
    /// (``StatementDeadline``: no attempt or retry past it), and when the time is up the statement is stopped as by
    /// Ctrl-C (writes on the wire finish, the summary says what was done) and fails with a message.
    func withStatementDeadline(
        range: SourceRange?, _ body: @escaping @Sendable () async throws -> [Record]
    ) async throws -> [Record] {
        let seconds = state.current.int("statement_timeout", default: 0, range: 0...31_536_000)
        guard seconds > 0 else { return try await body() }
        let deadline = StatementDeadline(limit: .seconds(seconds))
        let expired = Locked<Bool>(false)
        do {
            return try await StatementDeadline.$current.withValue(deadline) {
                try await withThrowingTaskGroup(of: [Record]?.self) { group in
                    group.addTask { try await body() }
                    group.addTask {
                        try await Task.sleep(until: deadline.instant, clock: .continuous)
                        expired.withLock { $0 = true }
                        return nil
                    }
                    while let result = try await group.next() {
                        if let records = result {
                            group.cancelAll()
                            // Stopped by the deadline, a statement that returns still did not do all its work.
                            if expired.current { throw CancellationError() }
                            return records
                        }
                        group.cancelAll()
                    }
                    throw CancellationError()
                }
            }
        } catch {
            guard expired.current, !Task.isCancelled else { throw error }
            throw ScriptError(
                "the statement took longer than statement_timeout = \(seconds) s and was stopped; "
                    + "raise it with: set statement_timeout = \(seconds * 4)", range: range)
        }
    }

    /// After a statement in which the client got a fresh token from `token_command` (the old one expired),
    /// the session keeps the fresh one: later statements send it, and it is masked like the one it replaces.
    func adoptRefreshedToken() {
        guard let client = clientCache.withLock({ $0.client }), client.currentAuth != client.configuration.auth,
            let secret = client.currentAuth.secret
        else { return }
        if case .apiToken = client.currentAuth {
            state.withLock { $0.set("api_token", .string(secret)) }
        } else {
            state.withLock { $0.set("token", .string(secret)) }
        }
        // The trace's mask learns the fresh token; the next statement makes a client that sends it.
        applyTrace()
    }

    func runSource(_ path: String, range: SourceRange) async throws {
        let depth = sourceDepth.withLock { d -> Int in
            d += 1
            return d
        }
        defer { sourceDepth.withLock { $0 -= 1 } }
        guard depth <= 16 else {
            throw ScriptError("source nested more than 16 deep (a file sources itself?)", range: range)
        }
        let text: String
        do {
            text = try FileText.read(path)
        } catch {
            throw ScriptError("cannot read '\(path)': \(error.message)", range: range)
        }
        let result = await run(text, name: path)
        switch result.status {
        case .success: return
        case .cancelled: throw CancellationError()
        case .failed, .parseError: throw StatementFailed()
        }
    }

    func varsListing() -> String {
        let session = state.current
        var names = Set(session.variables.keys)
        for k in Session.knownVariables where session.value(k.name) != nil { names.insert(k.name) }
        var out = ""
        for name in names.sorted() {
            out += "\(name) = \(session.scrub(session.masked(name)))\n"
        }
        for (name, records) in session.recordLists.sorted(by: { $0.key < $1.key }) {
            out += "\(name) = [\(records.count) record\(records.count == 1 ? "" : "s")]\n"
        }
        return out
    }

    /// Checks values of variables scimsh gives meaning to.
    /// The settings that take one of a few words, with the words in the order messages list them.
    static let settingWords: [String: [String]] = [
        "trace": ["on", "curl", "off"], "dialect": ["auto", "odm", "rfc"], "on_error": ["stop", "continue"],
        "dry_run": ["on", "off"], "insecure": ["on", "off"], "allow_http": ["on", "off"],
        "confirm_delete": ["on", "off"],
    ]

    func validateSetting(_ name: String, _ value: JSONValue, range: SourceRange) throws {
        let text = value.displayString
        switch name {
        case "output":
            guard OutputFormat(rawValue: text.lowercased()) != nil else {
                throw ScriptError("output must be one of table, json, jsonl, csv, show (not '\(text)')", range: range)
            }
        case _ where Self.settingWords[name] != nil:
            let words = Self.settingWords[name] ?? []
            // These three switches also take true and false; confirm_delete takes only on and off.
            let accepted = words + (["dry_run", "insecure", "allow_http"].contains(name) ? ["true", "false"] : [])
            guard accepted.contains(text.lowercased()) else {
                let choices = words.dropLast().joined(separator: ", ") + " or " + (words.last ?? "")
                throw ScriptError("\(name) must be \(choices) (not '\(text)')", range: range)
            }
        case "proxy":
            guard text.isEmpty || (try? ProxySettings(parsing: text)) != nil else {
                throw ScriptError(
                    "proxy must be a URL such as http://proxy.corp:3128 or http://user:password@proxy:3128",
                    range: range)
            }
        case "page_size", "concurrency", "timeout", "confirm_above", "statement_timeout":
            let limits: ClosedRange<Double> =
                switch name {
                case "page_size": 1...10_000
                case "concurrency": 1...256
                case "confirm_above": 0...1_000_000_000
                case "statement_timeout": 0...31_536_000
                default: 1...3600
                }
            guard let n = value.numberValue ?? Double(text), n == n.rounded(), limits.contains(n) else {
                throw ScriptError(
                    "\(name) must be a whole number from \(Int(limits.lowerBound)) to \(Int(limits.upperBound))",
                    range: range)
            }
        case "host":
            guard text.hasPrefix("http://") || text.hasPrefix("https://") else {
                throw ScriptError("host must start with http:// or https:// (got '\(text)')", range: range)
            }
        default:
            break
        }
    }

    // MARK: - Values

    /// The value of an expression: variables and interpolations resolved.
    func resolve(_ expr: Expr) throws -> JSONValue {
        switch expr {
        case .literal(let v, _): return v
        case .bareWord(let w, _): return .string(w)
        case .variable(let name, let range): return try variable(name, range: range)
        case .env(let name, let range): return .string(try env(name, range: range))
        case .string(let parts, _, _):
            var s = ""
            for part in parts {
                switch part {
                case .text(let t): s += t
                case .variable(let name, let range): s += try variable(name, range: range).displayString
                case .env(let name, let range): s += try env(name, range: range)
                }
            }
            return .string(s)
        }
    }

    func variable(_ name: String, range: SourceRange?) throws -> JSONValue {
        if let n = Int(name) {
            guard n >= 1, n <= arguments.count else {
                throw ScriptError(
                    "no script argument $\(n) (the script got \(arguments.count) argument\(arguments.count == 1 ? "" : "s"))",
                    range: range)
            }
            return .string(arguments[n - 1])
        }
        if name.hasPrefix("env.") { return .string(try env(String(name.dropFirst(4)), range: range)) }
        let session = state.current
        if let v = session.value(name) { return v }
        if session.recordLists[name] != nil {
            throw ScriptError(
                "$\(name) holds records; use it as the first stage of a pipeline: $\(name) | ...", range: range)
        }
        if Session.knownVariables.contains(where: { $0.name == name }) {
            throw ScriptError("$\(name) is not set (set \(name) = VALUE)", range: range)
        }
        var message = "unknown variable '$\(name)'"
        if let near = Suggest.closest(
            to: name, among: Array(session.variables.keys) + Session.knownVariables.map(\.name))
        {
            message += " (did you mean '$\(near)'?)"
        } else {
            message += " (set it first: set \(name) = VALUE)"
        }
        throw ScriptError(message, range: range)
    }

    func env(_ name: String, range: SourceRange?) throws -> String {
        guard let v = environment[name] else {
            throw ScriptError("environment variable \(name) is not set", range: range)
        }
        return v
    }

    /// The process environment as a dictionary.
    public static func currentEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                result[String(s[..<eq])] = String(s[s.index(after: eq)...])
            }
            p += 1
        }
        return result
    }

    // MARK: - Client

    /// The client for the session's server.
    func client() throws -> SCIMClient {
        guard let config = state.current.clientConfiguration()?.applyingEnvironment(environment) else {
            throw ScriptError(
                "no server: set host = \"https://odm.example.com\" (or start scimsh with --sandbox to try the local sandbox)"
            )
        }
        if let cached = clientCache.withLock({ $0.key == config ? $0.client : nil }) { return cached }
        let transport = try sharedTransport(config)
        let c = SCIMClient(configuration: config, transport: transport, observer: observerBox.current)
        clientCache.withLock { $0 = (config, c) }
        return c
    }

    /// The connection pool for a configuration's network settings, shared by every client that uses them.
    func sharedTransport(_ config: SCIMConfiguration) throws -> AsyncHTTPTransport {
        var settings: TransportSettings
        do {
            settings = try config.transportSettings()
        } catch {
            throw ScriptError(error.detail)
        }
        // Stages bound their own concurrency; one pool per network setting serves them all.
        settings.maxConnectionsPerHost = 256
        return transports.withLock { t in
            if let existing = t[settings] { return existing }
            let made = AsyncHTTPTransport(settings: settings)
            t[settings] = made
            return made
        }
    }

    /// The context shared by the stages of one pipeline.
    func makeContext(statement: String? = nil, writes: Bool = false) -> PipelineContext {
        let session = state.current
        var context = PipelineContext(
            session: session, sink: sink, mutations: MutationCounter(), interactive: interactive,
            // Only the prompt's completion reads these; a script or -c line does not pay for noting them.
            seen: interactive ? seen : nil,
            clientProvider: { [self] in try self.client() })
        let dry = session.string("dry_run")?.lowercased()
        context.dryRun = dry == "on" || dry == "true"
        context.discovery = session.clientConfiguration().flatMap { discoveryCache.known(baseURL: $0.baseURL) }
        context.confirm = confirmer.current
        context.journalStore = journal
        context.environment = environment
        context.sessionEditor = { [self] change in
            state.withLock { change(&$0) }
            applyTrace()
        }
        if writes, !context.dryRun, let journal {
            context.journal = journal
            let text = session.scrub(statement ?? "")
            let host = session.clientConfiguration()?.baseURL ?? ""
            context.statement = StatementInfo(
                number: journal.nextStatement(text: text, host: host), text: text, host: host)
        }
        return context
    }

    /// Sets how the interpreter asks the person at the prompt before a big change (see `confirm_above`);
    /// `nil` (the default, and always in scripts) never asks.
    public func setConfirmer(_ confirm: (@Sendable (String) async -> Bool)?) {
        confirmer.withLock { $0 = confirm }
    }
}

/// "Did you mean" suggestions.
enum Suggest {
    /// The candidate closest to `word` by edit distance, if close enough.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let w = Array(word.lowercased())
        var best: (String, Int)?
        for c in Set(candidates) {
            let d = distance(w, Array(c.lowercased()))
            if d <= max(1, w.count / 3), d < (best?.1 ?? Int.max) { best = (c, d) }
        }
        return best?.0
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count)
        for i in 1...a.count {
            var cur = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
}
