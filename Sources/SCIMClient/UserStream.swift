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
        /// The server's `totalResults` from the latest page.
        public private(set) var totalResults: Int?

        public mutating func next() async throws(SCIMError) -> SCIMUser? {
            if position < buffer.count {
                defer { position += 1 }
                return buffer[position]
            }
            guard !finished else { return nil }
            let page = try await client.findUsers(filter: filter, startIndex: nextStart, count: pageSize)
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
