import SCIMClient
import SCIMCore
import Synchronization

/// Counts the writes a pipeline has started and finished, so a `find` upstream of them can page safely
/// through a listing that those writes change (see ``FindSource``).
public final class MutationCounter: WriteCounting {
    private let queued = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)
    private let failed = Atomic<Int>(0)

    /// A counter at zero.
    public init() {}

    /// A write was queued (it will be sent when a concurrency slot frees).
    public func enqueue() { queued.add(1, ordering: .sequentiallyConsistent) }
    /// Writes queued so far (each is counted before it can start).
    public var queuedCount: Int { queued.load(ordering: .sequentiallyConsistent) }
    /// A write got its answer (or failed).
    public func end() { completed.add(1, ordering: .sequentiallyConsistent) }
    /// Writes finished so far.
    public var completedCount: Int { completed.load(ordering: .sequentiallyConsistent) }
    /// Notes a failed operation (a write or a read for one record) that was already reported.
    public func fail() { failed.add(1, ordering: .sequentiallyConsistent) }
    /// Operations that failed so far; the statement fails when this is not zero.
    public var failedCount: Int { failed.load(ordering: .sequentiallyConsistent) }
    /// Writes queued so far: a `find` before the write stage pages around them (``ListingCursor``).
    public var writesBegun: Int { queuedCount }
    /// Writes finished so far.
    public var writesFinished: Int { completedCount }
}

/// What every stage of one running pipeline shares.
public struct PipelineContext: Sendable {
    /// The session's variables as they were when the statement started.
    public var session: Session
    /// Where output goes.
    public var sink: any OutputSink
    /// Writes started and finished in this pipeline.
    public var mutations: MutationCounter
    /// Whether the statement runs from a prompt (affects defaults such as `on_error`).
    public var interactive: Bool
    /// Records ids and userNames seen, for completion.
    public var seen: SeenUsers?
    /// Whether write stages only print their plan (`set dry_run = on`, `--dry-run`).
    public var dryRun: Bool = false
    /// Asks the person at the prompt a yes/no question (`nil` in scripts: never ask).
    public var confirm: (@Sendable (String) async -> Bool)?
    /// Where writes are journaled (`nil`: not journaled, as in a dry run).
    public var journal: Journal?
    /// The session's journal, for reading (`journal`, `undo`) even when this pipeline writes nothing.
    public var journalStore: Journal?
    /// The statement being run, for the journal.
    public var statement: StatementInfo?
    /// Environment variables (`$env.NAME`, where a profile's token may be).
    public var environment: [String: String] = [:]
    let clientProvider: @Sendable () throws -> SCIMClient
    /// Changes the interpreter's session for the statements that follow (`nil`: this pipeline cannot).
    var sessionEditor: (@Sendable (@Sendable (inout Session) -> Void) -> Void)?

    /// Changes the session's variables for the statements after this one, as `connect` does; returns whether
    /// the pipeline could (a pipeline run outside an interpreter cannot).
    @discardableResult
    public func updateSession(_ change: @Sendable (inout Session) -> Void) -> Bool {
        guard let sessionEditor else { return false }
        sessionEditor(change)
        return true
    }

    /// The client for the session's server; throws when no host is set.
    public func client() throws -> SCIMClient { try clientProvider() }

    /// What the server said about itself at its discovery endpoints (RFC 7644 §4), when read in this session
    /// (``DiscoveryCache``); `nil` when not read (yet), as in a pipeline that sends nothing.
    public var discovery: ServerDiscovery?

    /// Which filters and patches the server understands: `dialect` when it says `odm` or `rfc`; otherwise
    /// (`auto`, the default) ODM when the server offers no discovery and `base_path` is ODM's, RFC 7644 else.
    public var dialect: Dialect { PipelineContext.dialect(of: session, discovery: discovery) }

    /// The dialect of a session, by the rule of ``dialect``.
    public static func dialect(of session: Session, discovery: ServerDiscovery? = nil) -> Dialect {
        Dialect.resolve(setting: session.string("dialect"), basePath: session.string("base_path"), discovery: discovery)
    }

    /// Which attributes compare their strings case-sensitively in local filters (`where`, find's check): those
    /// the server's `/Schemas` mark `caseExact` when it was read, else RFC 7643's defaults under the RFC dialect
    /// (`id`, `externalId`, …), none under ODM, which compares every string ignoring case.
    public var caseExactness: CaseExactness? {
        if let paths = discovery?.caseExactUserPaths, !paths.isEmpty { return CaseExactness(paths) }
        return dialect == .rfc ? .rfcDefaults : nil
    }

    /// Whether a record matches a filter here: ``caseExactness`` applied.
    func matches(_ filter: SCIMFilter, _ record: JSONValue) -> Bool {
        guard let exact = caseExactness else { return filter.matches(record) }
        return filter.matches(record, caseExact: exact)
    }

    /// The page size for listings: `page_size`, at most the server's `filter.maxResults` when it gives one.
    public var pageSize: Int {
        let size = session.int("page_size", default: 100, range: 1...10_000)
        guard let most = discovery?.config?.maxResults, most > 0 else { return size }
        return min(size, most)
    }
    /// Parallel requests in mutating stages.
    public var concurrency: Int { session.int("concurrency", default: 8, range: 1...256) }

    /// Writes a message line to stderr, with secrets removed.
    public func message(_ text: String) {
        sink.writeMessage(session.scrub(text) + "\n")
    }

    /// Writes a warning line to stderr.
    public func warning(_ text: String) {
        message("warning: " + text)
    }
}

/// What a server understands beyond the SCIM basics.
public enum Dialect: String, Sendable {
    /// Genestack ODM: filters with eq and and only (plus emails[...] value filters); PATCH edits userName,
    /// externalId, displayName and active.
    case odm
    /// Any RFC 7644 server: the full filter grammar.
    case rfc

    /// The dialect for a `dialect` setting (`odm`, `rfc`, `auto` or unset), a base path and what discovery found:
    /// an explicit `odm` or `rfc` wins; else a server with discovery endpoints is RFC 7644, and one without is ODM
    /// when the base path is ODM's (`/api/v1/scim`). Discovery not read yet counts as none.
    public static func resolve(setting: String?, basePath: String?, discovery: ServerDiscovery?) -> Dialect {
        switch setting?.lowercased() {
        case "odm": return .odm
        case "rfc": return .rfc
        default:
            if discovery?.isOffered == true { return .rfc }
            var p = basePath ?? SCIMConfiguration.odmBasePath
            while p.hasSuffix("/") { p.removeLast() }
            return p == SCIMConfiguration.odmBasePath ? .odm : .rfc
        }
    }
}

/// The statement a pipeline belongs to, as the journal records it.
public struct StatementInfo: Sendable {
    /// The journal's statement number.
    public var number: Int
    /// The statement's text, secrets masked.
    public var text: String
    /// The server's base URL.
    public var host: String
}

/// Ids and userNames seen in this session (offered by completion; never sent anywhere).
public final class SeenUsers: Sendable {
    /// The most recent values, oldest first, in a ring of `capacity` slots.
    struct Recent {
        var ring: [String] = []
        var next = 0
        var set: Set<String> = []

        mutating func insert(_ value: String, capacity: Int) {
            guard set.insert(value).inserted else { return }
            if ring.count < capacity {
                ring.append(value)
                return
            }
            set.remove(ring[next])
            ring[next] = value
            next = (next + 1) % capacity
        }

        var ordered: [String] { Array(ring[next...] + ring[..<next]) }
    }

    private let state = LockedValue<(ids: Recent, names: Recent, groups: Recent)>((Recent(), Recent(), Recent()))
    /// How many of each are kept.
    public let capacity: Int

    /// An empty set keeping the most recent `capacity` of each.
    public init(capacity: Int = 2000) { self.capacity = max(1, capacity) }

    /// Notes a user's id and userName.
    public func note(_ record: Record) {
        let id = record["id"]?.stringValue
        let name = record["userName"]?.stringValue
        state.withLock { s in
            if let id { s.ids.insert(id, capacity: capacity) }
            if let name { s.names.insert(name, capacity: capacity) }
        }
    }

    /// Notes a group's displayName (from the group commands).
    public func noteGroupName(_ name: String) {
        state.withLock { $0.groups.insert(name, capacity: capacity) }
    }

    /// The group names seen, oldest first.
    public var groupNames: [String] { state.withLock { $0.groups.ordered } }
    /// The ids seen, oldest first.
    public var ids: [String] { state.withLock { $0.ids.ordered } }
    /// The userNames seen, oldest first.
    public var userNames: [String] { state.withLock { $0.names.ordered } }
}

/// Limits how many operations run at once (an async semaphore).
final class AsyncLimiter: Sendable {
    private let state: LockedValue<(available: Int, waiters: [CheckedContinuation<Void, Never>])>

    init(_ limit: Int) { state = LockedValue((max(1, limit), [])) }

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if resumeNow { c.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
