import SCIMCore

/// Every user matching a filter, page by page on demand (`GET /Users?startIndex=…&count=…`).
public typealias UserStream = ResourceStream<SCIMUser>

/// Every group matching a filter, page by page on demand (`GET /Groups?startIndex=…&count=…`).
public typealias GroupStream = ResourceStream<SCIMGroup>

/// Every resource of a listing, page by page on demand: users (``UserStream``) or groups (``GroupStream``).
///
/// Only the current page is held. The stream ends when a page comes back empty or the server's
/// `totalResults` is reached; it never stops silently after the first page. Every page goes through
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
        let pageSize: Int
        let fetch: FetchPage
        var buffer: [Resource] = []
        var position = 0
        var nextStart = 1
        var finished = false
        var pageCheck = PageCheck()
        /// The server's `totalResults` from the latest page.
        public private(set) var totalResults: Int?

        public mutating func next() async throws(SCIMError) -> Resource? {
            if position < buffer.count {
                defer { position += 1 }
                return buffer[position]
            }
            guard !finished else { return nil }
            let page = try await fetch(nextStart, pageSize)
            if let problem = pageCheck.problem(with: page, start: nextStart, repeatsExpected: false) {
                finished = true
                let r = client.request("GET", path: path)
                throw .invalidResponse(status: 200, detail: problem, method: r.method, url: r.url)
            }
            totalResults = page.totalResults
            buffer = page.resources
            position = 0
            nextStart += page.resources.count
            if page.resources.isEmpty || nextStart > page.totalResults { finished = true }
            guard !buffer.isEmpty else { return nil }
            position = 1
            return buffer[0]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(client: client, path: path, pageSize: pageSize, fetch: fetch)
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
