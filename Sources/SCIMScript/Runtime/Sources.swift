import SCIMClient
import SCIMCore

/// A source that knows how many records it gives in all (a list in memory, a listing's `totalResults`), so a
/// write stage after it can show done/total and the time left.
public protocol CountedSource: RecordSource {
    /// How many records it gives in all, once known (a listing knows after its first page).
    var expectedCount: Int? { get }
}

/// Records from memory (a `let` list, literal input).
public final class ArraySource: CountedSource {
    private var records: [Record]
    private var position = 0

    public var expectedCount: Int? { records.count }

    /// A source yielding these records in order.
    public init(_ records: [Record]) { self.records = records }

    public func next() async throws -> Record? {
        guard position < records.count else { return nil }
        defer { position += 1 }
        return records[position]
    }
}

/// A source that yields nothing.
public final class EmptySource: RecordSource {
    /// An empty source.
    public init() {}
    public func next() async throws -> Record? { nil }
}

/// A stage that maps each input record through a function (`nil` drops it).
public final class MapSource: RecordSource {
    let upstream: any RecordSource
    let transform: (Record) throws -> Record?

    /// A mapping stage.
    public init(_ upstream: any RecordSource, _ transform: @escaping (Record) throws -> Record?) {
        self.upstream = upstream
        self.transform = transform
    }

    public func next() async throws -> Record? {
        while let r = try await upstream.next() {
            try Task.checkCancellation()
            if let out = try transform(r) { return out }
        }
        return nil
    }
}

/// Lists users page by page (`GET /Users?filter=…&startIndex=…&count=…`), fetching the next page only when
/// asked for more (a plain listing asks for it while the last users of the current page are passed on).
///
/// When later stages write (`find active eq true | delete`), those writes can move users out of the listing
/// while it is paged: on ODM a deactivated user leaves `find`. The listing then pages around them with a
/// ``ListingCursor`` (the client library's `findAll` does the same): every matched user is reached exactly once,
/// whatever the writes do.
public final class FindSource: CountedSource {
    let client: SCIMClient
    let filterText: String?
    let limit: Int?
    let check: SCIMFilter?
    let onDropped: (Int) -> Void
    let context: PipelineContext

    var cursor: ListingCursor
    var buffer: [SCIMUser] = []
    var position = 0
    var emitted = 0
    var dropped = 0
    var stopped = false
    /// The server's `totalResults` from the latest page.
    public private(set) var totalResults: Int?
    /// `totalResults` of the first page: writes downstream can shrink the listing as it is paged, not the work.
    var firstTotal: Int?

    public var expectedCount: Int? { firstTotal.map { t in limit.map { min($0, t) } ?? t } }
    /// The next page, requested while the current one is still being passed on (see ``prefetchIfUseful()``).
    var prefetch: (start: Int, task: Task<ListResponse, any Error>)?

    /// A listing. `mutations` turns on the mode that survives writes downstream; `check` re-applies the filter
    /// locally and drops (and counts) records the server should not have returned.
    init(
        client: SCIMClient, filter: String?, pageSize: Int, limit: Int?, mutations: MutationCounter?,
        check: SCIMFilter?, context: PipelineContext, onDropped: @escaping (Int) -> Void
    ) {
        self.client = client
        self.filterText = filter
        self.cursor = ListingCursor(pageSize: pageSize, writes: mutations)
        self.limit = limit
        self.check = check
        self.context = context
        self.onDropped = onDropped
    }

    public func next() async throws -> Record? {
        while true {
            try Task.checkCancellation()
            if let limit, emitted >= limit { return finish() }
            while position < buffer.count {
                let user = buffer[position]
                position += 1
                if let check, !context.matches(check, user.json) {
                    dropped += 1
                    continue
                }
                emitted += 1
                context.seen?.note(user.attributes)
                prefetchIfUseful()
                return user.attributes
            }
            guard !stopped, !cursor.finished else { return finish() }
            try await fetch()
        }
    }

    deinit {
        prefetch?.task.cancel()
    }

    func finish() -> Record? {
        prefetch?.task.cancel()
        prefetch = nil
        if dropped > 0 {
            onDropped(dropped)
            dropped = 0
        }
        stopped = true
        buffer = []
        return nil
    }

    /// Requests the next page while the last users of this one are passed on, so that the stages after a plain
    /// listing do not run dry at every page boundary. Not with writes downstream: there the next start depends on
    /// the writes of this page's users (see ``ListingCursor``), which are not all known yet.
    func prefetchIfUseful() {
        guard !cursor.pagesAroundWrites, prefetch == nil, !stopped, !cursor.finished else { return }
        let remaining = buffer.count - position
        guard remaining <= 2 * context.concurrency else { return }
        if let limit, emitted + remaining >= limit { return }
        let client = self.client
        let filter = filterText
        let (start, count) = cursor.nextRequest()
        prefetch = (
            start,
            Task {
                try await client.findUsers(filter: filter, startIndex: start, count: count)
            }
        )
    }

    func fetch() async throws {
        let start: Int
        let page: ListResponse
        do {
            if let (prefetchedStart, task) = prefetch {
                prefetch = nil
                start = prefetchedStart
                page = try await task.value
            } else {
                let (first, count) = cursor.nextRequest()
                start = first
                page = try await client.findUsers(filter: filterText, startIndex: start, count: count)
            }
        } catch let error as SCIMError {
            if error.isCancelled { throw CancellationError() }
            let hint = context.session.hint(for: error).map { "\n" + $0 } ?? ""
            throw ScriptError(context.session.scrub(error.description) + hint)
        }
        totalResults = page.totalResults
        do throws(ListingCursor.Stop) {
            buffer = try await cursor.accept(page, start: start)
        } catch {
            guard case .problem(let problem) = error else { throw CancellationError() }
            throw ScriptError(context.session.scrub(problem))
        }
        if firstTotal == nil { firstTotal = page.totalResults }
        position = 0
    }
}

/// The result of one record's operation in a concurrent stage.
public enum StageOutcome: Sendable {
    /// Pass this record on.
    case record(Record)
    /// Nothing to pass on (the failure was already reported).
    case failed
    /// Nothing to pass on, no failure.
    case skipped
}

/// Runs an operation on each input record with up to `concurrency` in flight, passing results on in input
/// order. At most twice `concurrency` results wait for a slow earlier one, so one slow request does not stop
/// the others.
public final class OrderedConcurrentSource: RecordSource {
    let upstream: any RecordSource
    let concurrency: Int
    let operation: @Sendable (Record) async -> StageOutcome
    let onEnqueue: (@Sendable () -> Void)?
    let limiter: AsyncLimiter
    let pending = Locked<[Task<StageOutcome, Never>]>([])
    /// Made on cancellation: operations not yet started are skipped, and requests of running ones still waiting
    /// for a connection are withdrawn (never sent); those sent finish (their tasks are not cancelled, so a write
    /// already sent is never abandoned halfway and the caller can report exactly what happened).
    let withdrawal = Withdrawal()
    var upstreamDone = false

    /// A concurrent stage.
    public init(
        _ upstream: any RecordSource, concurrency: Int, onEnqueue: (@Sendable () -> Void)? = nil,
        operation: @escaping @Sendable (Record) async -> StageOutcome
    ) {
        self.upstream = upstream
        self.concurrency = max(1, concurrency)
        self.onEnqueue = onEnqueue
        self.operation = operation
        self.limiter = AsyncLimiter(max(1, concurrency))
    }

    deinit {
        withdrawal.withdraw()
    }

    public func next() async throws -> Record? {
        while true {
            if Task.isCancelled {
                cancelAll()
                throw CancellationError()
            }
            while !upstreamDone, pending.current.count < concurrency * 2 {
                guard let r = try await upstream.next() else {
                    upstreamDone = true
                    break
                }
                let limiter = self.limiter
                let operation = self.operation
                let withdrawal = self.withdrawal
                onEnqueue?()
                let task = Task {
                    await limiter.acquire()
                    defer { limiter.release() }
                    if withdrawal.isWithdrawn { return StageOutcome.skipped }
                    return await Withdrawal.$current.withValue(withdrawal) { await operation(r) }
                }
                pending.withLock { $0.append(task) }
            }
            guard let head = pending.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return nil }
            let withdrawal = self.withdrawal
            let outcome = await withTaskCancellationHandler {
                await head.value
            } onCancel: {
                withdrawal.withdraw()
            }
            if Task.isCancelled {
                cancelAll()
                throw CancellationError()
            }
            if case .record(let r) = outcome { return r }
        }
    }

    /// Stops operations that have not started and withdraws their requests not yet sent (sent ones finish; they
    /// stay listed, so ``settle()`` can wait for them).
    func cancelAll() {
        withdrawal.withdraw()
        upstreamDone = true
    }

    /// Waits for every task still running (after a cancellation), so the caller's summary is complete.
    public func settle() async {
        for t in pending.current { _ = await t.value }
    }
}
