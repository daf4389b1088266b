import SCIMCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One HTTP request as the client sends it.
public struct HTTPRequestData: Sendable, Hashable {
    /// GET, POST, PATCH, DELETE, ...
    public var method: String
    /// The full URL.
    public var url: String
    /// Header fields in order. May include credentials: use ``maskedHeaders`` to show them.
    public var headers: [(name: String, value: String)]
    /// The body, if any.
    public var body: [UInt8]?
    /// The proxy the request goes through, password masked (`http://user:****@proxy:3128`), or `nil`.
    public var proxy: String?

    /// A request.
    public init(
        method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]?, proxy: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.proxy = proxy
    }

    /// The headers with credential values replaced by `****`.
    public var maskedHeaders: [(name: String, value: String)] {
        headers.map { h in
            let lower = h.name.lowercased()
            if lower == "authorization" {
                let scheme = h.value.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
                return (h.name, scheme.isEmpty || scheme == h.value ? "****" : scheme + " ****")
            }
            if lower == "genestack-api-token" || lower == "cookie" || lower == "x-api-key" { return (h.name, "****") }
            return h
        }
    }

    public static func == (lhs: HTTPRequestData, rhs: HTTPRequestData) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.body == rhs.body
            && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(url)
        hasher.combine(body)
    }
}

extension HTTPRequestData: CustomStringConvertible, CustomDebugStringConvertible {
    /// `GET URL [headers] (N bytes)` with credentials masked, so that logging a request never shows a token.
    public var description: String {
        let headers = maskedHeaders.map { "\($0.name): \($0.value)" }.joined(separator: ", ")
        var s = "\(method) \(url) [\(headers)]"
        if let body { s += " (\(body.count) bytes)" }
        return s
    }

    /// The same as ``description``: credentials masked.
    public var debugDescription: String { description }
}

/// One HTTP response as the client received it.
public struct HTTPResponseData: Sendable, Hashable {
    /// The status code.
    public var status: Int
    /// Header fields in order.
    public var headers: [(name: String, value: String)]
    /// The body (possibly empty).
    public var body: [UInt8]
    /// The large-answer permit the body holds while it is decoded (``LargeAnswerGate``), if it needed one.
    var lease: LargeAnswerGate.Lease?

    /// A response.
    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    public static func == (lhs: HTTPResponseData, rhs: HTTPResponseData) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(status)
        hasher.combine(body)
    }
}

/// A failure below HTTP: the request got no answer.
public struct TransportFailure: Error, Sendable {
    /// A short human-readable reason ("connection refused", "timed out").
    public var reason: String
    /// Whether the request certainly never reached the server (so even a POST may be retried).
    public var notSent: Bool

    /// A failure.
    public init(reason: String, notSent: Bool) {
        self.reason = reason
        self.notSent = notSent
    }
}

/// Sends HTTP requests. The client uses ``AsyncHTTPTransport`` unless given another (tests and embedders may
/// supply their own).
public protocol HTTPTransport: Sendable {
    /// Sends one request and returns the whole response, or throws ``TransportFailure``
    /// (or `CancellationError`).
    func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData
    /// Releases connections.
    func shutdown() async
}

/// Withdraws requests that have not left yet: set it, and requests sent from tasks that carry it (see
/// ``current``) and still waiting for a connection fail as not sent, and ``SCIMClient`` does not retry them.
/// Requests already on the wire are not touched: they finish, so the caller learns what the server got.
///
/// The interpreter's write stages use it for Ctrl-C: operations prepared ahead of their turn are withdrawn,
/// those sent finish.
public final class Withdrawal: Sendable {
    private let flag = Atomic<Bool>(false)

    /// A withdrawal not yet made.
    public init() {}

    /// Withdraws every request of this withdrawal that has not left yet.
    public func withdraw() { flag.store(true, ordering: .sequentiallyConsistent) }

    /// Whether ``withdraw()`` was called.
    public var isWithdrawn: Bool { flag.load(ordering: .sequentiallyConsistent) }

    /// The withdrawal for requests sent from the current task.
    @TaskLocal public static var current: Withdrawal?

}

/// A transport whose every request fails with one failure: settings that could not be used.
struct FailingTransport: HTTPTransport {
    let failure: TransportFailure

    func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData { throw failure }
    func shutdown() async {}
}
