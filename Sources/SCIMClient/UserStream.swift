import SCIMCore
import Synchronization

/// Every user matching a filter, page by page on demand (`GET /Users?startIndex=…&count=…`).
public typealias UserStream = ResourceStream<SCIMUser>

/// Every group matching a filter, page by page on demand (`GET /Groups?startIndex=…&count=…`).
public typealias GroupStream = ResourceStream<SCIMGroup>

/// Every resource of a listing, page by page on demand: users (``UserStream``) or groups (``GroupStream``).
///
/// Only the current page is held. The stream ends when a page comes back empty or the server's
/// `totalResults` is reached; it never stops silently after the first page. Paging is a ``ListingCursor`` over
/// the client's own writes: a program that deletes or deactivates the users it lists (which leave an ODM listing)
/// still gets every user exactly once. Writes by other clients are not counted. Every page goes through
/// ``PageCheck``: a server that pages wrongly ends the stream with an error.
public struct ResourceStream<Resource: SCIMResource>: AsyncSequence, Sendable {
    public typealias Element = Resource
    public typealias Failure = SCIMError
    /// Fetches the page at a 1-based start index with a page size.
    typealias FetchPage =
        @Sendable (_ startIndex: Int, _ count: Int) async throws(SCIMError) -> SCIMListResponse<
            Resource
        >

    let client: SCIMClient
    /// The listing's path (`/Users`), for error messages.
    let path: String
    let pageSize: Int
    let fetch: FetchPage

    /// The iterator; each call to `next()` returns a resource from the current page or fetches the next page.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let client: SCIMClient
        let path: String
        let fetch: FetchPage
        var cursor: ListingCursor
        var buffer: [Resource] = []
        var position = 0
        /// The server's `totalResults` from the latest page.
        public private(set) var totalResults: Int?

        public mutating func next() async throws(SCIMError) -> Resource? {
            while position == buffer.count {
                guard !cursor.finished else { return nil }
                let (start, count) = cursor.nextRequest()
                let page = try await fetch(start, count)
                totalResults = page.totalResults
                do throws(ListingCursor.Stop) {
                    buffer = try await cursor.accept(page, start: start)
                } catch {
                    let r = client.request("GET", path: path)
                    guard case .problem(let problem) = error else { throw .cancelled(method: r.method, url: r.url) }
                    throw .invalidResponse(status: 200, detail: problem, method: r.method, url: r.url)
                }
                position = 0
            }
            defer { position += 1 }
            return buffer[position]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            client: client, path: path, fetch: fetch, cursor: ListingCursor(pageSize: pageSize, writes: client.writes))
    }
}

/// Writes begun and finished so far, for a listing paged while they run (``ListingCursor``).
public protocol WriteCounting: Sendable {
    /// Writes begun so far, counting those queued to begin while a listing's request is on its way.
    var writesBegun: Int { get }
    /// Writes answered (or failed) so far.
    var writesFinished: Int { get }
}

/// The writes (POST, PATCH, PUT, DELETE) a ``SCIMClient`` has sent.
final class WriteCounter: WriteCounting {
    private let begun = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)

    func begin() { begun.add(1, ordering: .sequentiallyConsistent) }
    func end() { finished.add(1, ordering: .sequentiallyConsistent) }
    var writesBegun: Int { begun.load(ordering: .sequentiallyConsistent) }
    var writesFinished: Int { finished.load(ordering: .sequentiallyConsistent) }
}

/// Where the next page of a listing starts, so that every resource is reached exactly once although writes
/// remove resources from the listing while it is paged (on ODM a deleted or deactivated user leaves `GET /Users`,
/// and plain `startIndex` paging would skip as many users as were removed before the next page).
///
/// Without writes to count it pages plainly. With them, each request starts early by the writes that may have
/// taken effect since the previous request (writes begun minus those finished before that request): an upper bound
/// on how far the listing can have shifted, so no resource is skipped. It asks for those positions on top of a page
/// (at most two pages), and drops resources it has passed on before (it keeps their ids for that). A page of nothing but those waits for the
/// writes in flight, so paging cannot stall. One implementation for the library's ``ResourceStream`` (counting the
/// client's writes) and the interpreter's `find` (counting the writes of the stages after it).
public struct ListingCursor: Sendable {
    /// Why a listing stops early.
    public enum Stop: Error, Sendable {
        /// The server pages wrongly (``PageCheck``): the message says how.
        case problem(String)
        /// The task was cancelled while waiting for writes in flight.
        case cancelled
    }

    let pageSize: Int
    let writes: (any WriteCounting)?
    /// The position after the last resource received.
    public private(set) var nextStart = 1
    /// Whether the listing has been read to its end (or stopped).
    public private(set) var finished = false
    /// Whether it pages around writes (else plainly, and the next request is known before this page is used up).
    public var pagesAroundWrites: Bool { writes != nil }
    var seen: Set<String> = []
    var finishedAtLastRequest = 0
    var pageCheck = PageCheck()

    /// A cursor at the start of a listing; `writes` counts the writes that may remove resources from it.
    public init(pageSize: Int, writes: (any WriteCounting)?) {
        self.pageSize = max(1, pageSize)
        self.writes = writes
    }

    /// The `startIndex` and `count` of the next request.
    public mutating func nextRequest() -> (start: Int, count: Int) {
        guard let writes else { return (nextStart, pageSize) }
        let mayHaveMoved = max(0, writes.writesBegun - finishedAtLastRequest)
        let start = max(1, nextStart - mayHaveMoved)
        finishedAtLastRequest = writes.writesFinished
        return (start, pageSize + min(nextStart - start, pageSize))
    }

    /// Takes the answer to the request at `start`: the resources not passed on before, in order (none means: ask
    /// again, unless ``finished``).
    public mutating func accept<Resource>(_ page: SCIMListResponse<Resource>, start: Int) async throws(Stop)
        -> [Resource]
    {
        if let problem = pageCheck.problem(with: page, start: start, repeatsExpected: start < nextStart) {
            finished = true
            throw .problem(problem)
        }
        nextStart = start + page.resources.count
        // The listing only shrinks while it is paged (writes move resources out of it, not in), so once a page
        // reaches the end of the listing as it was at that moment, every resource has been seen.
        if page.resources.isEmpty || nextStart > page.totalResults { finished = true }
        guard let writes else { return page.resources }
        let fresh = page.resources.filter { resource in resource.id.map { seen.insert($0).inserted } ?? true }
        if fresh.isEmpty, !finished {
            // Nothing moved these: wait for the writes in flight, so the next start is computed from settled counts.
            while writes.writesBegun > writes.writesFinished {
                do {
                    try await Task.sleep(for: .milliseconds(2))
                } catch {
                    finished = true
                    throw .cancelled
                }
            }
            finishedAtLastRequest = writes.writesFinished
        }
        return fresh
    }
}

/// Checks that the pages of a listing fit together, so that a server that pages wrongly ends the listing with
/// an error rather than repeating users or skipping them silently.
///
/// Seen here: a server that ignores `startIndex` (the first page again and again, so a bulk change patched the
/// first 100 users three times and never the rest), one that answers with another `startIndex` than asked, one
/// whose `totalResults` promises more users than it sends, and one that repeats a page forever.
public struct PageCheck: Sendable {
    var previous: Set<String> = []
    var pagesWithoutNews = 0

    /// A check with no page seen yet.
    public init() {}

    /// What is wrong with `page`, the answer to `startIndex=start`, given the pages before it; `nil` when it fits.
    /// `repeatsExpected`: the listing starts pages early on purpose (writes downstream move users out of it), so
    /// users of the previous page may come again.
    public mutating func problem<Resource>(
        with page: SCIMListResponse<Resource>, start: Int, repeatsExpected: Bool
    ) -> String? {
        let noun = Resource.resourceType.lowercased()
        let what = "the server's listing does not page as SCIM says (RFC 7644 §3.4.2.4)"
        if page.startIndexReported, !page.resources.isEmpty, page.startIndex != start {
            return "\(what): asked for startIndex=\(start), it answered startIndex \(page.startIndex); stopped here"
        }
        let ids = page.resources.compactMap(\.id)
        let repeated = ids.filter { previous.contains($0) }
        if !repeatsExpected, let first = repeated.first {
            return "\(what): the page at startIndex=\(start) repeats \(noun) \(first) of the page before (does it "
                + "ignore startIndex?); stopped before going on"
        }
        if page.resources.isEmpty, start <= page.totalResults, !repeatsExpected {
            return "\(what): it counts \(page.totalResults) \(noun)s (totalResults) but sent none from position "
                + "\(start) on; the listing may be incomplete"
        }
        pagesWithoutNews = !ids.isEmpty && repeated.count == ids.count ? pagesWithoutNews + 1 : 0
        if pagesWithoutNews >= 3 {
            return
                "\(what): three pages in a row held only \(noun)s already listed (totalResults \(page.totalResults)); "
                + "stopped before going on"
        }
        previous = Set(ids)
        return nil
    }
}
