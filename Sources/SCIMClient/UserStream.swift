import SCIMCore

/// Every user matching a filter, page by page on demand (`GET /Users?startIndex=…&count=…`).
///
/// Only the current page is held. The stream ends when a page comes back empty or the server's
/// `totalResults` is reached; it never stops silently after the first page.
public struct UserStream: AsyncSequence, Sendable {
    public typealias Element = SCIMUser
    public typealias Failure = SCIMError

    let client: SCIMClient
    let filter: String?
    let pageSize: Int

    /// The iterator; each call to `next()` returns a user from the current page or fetches the next page.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let client: SCIMClient
        let filter: String?
        let pageSize: Int
        var buffer: [SCIMUser] = []
        var position = 0
        var nextStart = 1
        var finished = false
        var pageCheck = PageCheck()
        /// The server's `totalResults` from the latest page.
        public private(set) var totalResults: Int?

        public mutating func next() async throws(SCIMError) -> SCIMUser? {
            if position < buffer.count {
                defer { position += 1 }
                return buffer[position]
            }
            guard !finished else { return nil }
            let page = try await client.findUsers(filter: filter, startIndex: nextStart, count: pageSize)
            if let problem = pageCheck.problem(with: page, start: nextStart, repeatsExpected: false) {
                finished = true
                let r = client.request("GET", path: "/Users")
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
        AsyncIterator(client: client, filter: filter, pageSize: pageSize)
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
    public mutating func problem(with page: ListResponse, start: Int, repeatsExpected: Bool) -> String? {
        let what = "the server's listing does not page as SCIM says (RFC 7644 §3.4.2.4)"
        if page.startIndexReported, !page.resources.isEmpty, page.startIndex != start {
            return "\(what): asked for startIndex=\(start), it answered startIndex \(page.startIndex); stopped here"
        }
        let ids = page.resources.compactMap(\.id)
        let repeated = ids.filter { previous.contains($0) }
        if !repeatsExpected, let first = repeated.first {
            return "\(what): the page at startIndex=\(start) repeats user \(first) of the page before (does it "
                + "ignore startIndex?); stopped before going on"
        }
        if page.resources.isEmpty, start <= page.totalResults, !repeatsExpected {
            return "\(what): it counts \(page.totalResults) users (totalResults) but sent none from position "
                + "\(start) on; the listing may be incomplete"
        }
        pagesWithoutNews = !ids.isEmpty && repeated.count == ids.count ? pagesWithoutNews + 1 : 0
        if pagesWithoutNews >= 3 {
            return "\(what): three pages in a row held only users already listed (totalResults \(page.totalResults)); "
                + "stopped before going on"
        }
        previous = Set(ids)
        return nil
    }
}
