import AsyncHTTPClient
import NIOCore
import NIOHTTP1
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

    /// A request.
    public init(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]?) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
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

/// Sends HTTP requests. The client uses ``NIOHTTPTransport`` unless given another: ``AsyncHTTPTransport``
/// (AsyncHTTPClient), or one that tests and embedders supply themselves.
public protocol HTTPTransport: Sendable {
    /// Sends one request and returns the whole response, or throws ``TransportFailure``
    /// (or `CancellationError`).
    func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData
    /// Releases connections.
    func shutdown() async
    /// Caps the connections this transport keeps open to one host at `limit` (`nil`: no cap), if it can: a
    /// request that finds them all busy waits in line and leaves on the first connection that frees, without
    /// a round trip through its caller. Returns whether the transport does this; the default does not.
    ///
    /// A bulk writer can then prepare twice as many requests as it allows in flight, and the next one goes
    /// out the moment an answer arrives (docs/performance.md). Raising the cap starts waiting requests at once;
    /// lowering it closes nothing (connections above it stay open and keep serving; no new ones are opened).
    func limitConnections(perHost limit: Int?) -> Bool
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

    /// The failure of a withdrawn request.
    static let failure = TransportFailure(reason: "withdrawn before it was sent", notSent: true)
}

extension HTTPTransport {
    /// Not supported: returns false.
    public func limitConnections(perHost limit: Int?) -> Bool { false }
}

/// An alternative transport on AsyncHTTPClient: keep-alive pooling, and HTTP/2 when a TLS server offers it.
///
/// ``SCIMClient`` and the interpreter use ``NIOHTTPTransport``, which needs about a third less CPU per
/// request (docs/performance.md); pass this one to ``SCIMClient/init(configuration:transport:observer:)`` to
/// use AsyncHTTPClient instead.
public final class AsyncHTTPTransport: HTTPTransport {
    let client: HTTPClient
    let isShutDown = Atomic<Bool>(false)
    /// The largest response body accepted.
    public let maxBodyBytes: Int

    /// A transport keeping up to `maxConnections` connections per host.
    public init(maxConnections: Int = 64, maxBodyBytes: Int = 64 << 20) {
        var config = HTTPClient.Configuration()
        config.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnections)
        // Fail fast on refused connections; the SCIM client's own retry policy decides what to do.
        config.connectionPool.retryConnectionEstablishment = false
        config.timeout.connect = .seconds(10)
        config.redirectConfiguration = .disallow
        config.decompression = .disabled
        // No distributed tracing: the default no-op tracer still parses every URL again (about 4% of a PATCH).
        config.tracing.tracer = nil
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
        self.maxBodyBytes = maxBodyBytes
    }

    public func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData {
        var r = HTTPClientRequest(url: request.url)
        r.method = HTTPMethod(rawValue: request.method)
        for h in request.headers { r.headers.add(name: h.name, value: h.value) }
        if let body = request.body {
            r.body = .bytes(ByteBuffer(bytes: body))
        }
        let nanos = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        do {
            let response = try await client.execute(r, timeout: .nanoseconds(nanos))
            var buffer = try await response.body.collect(upTo: maxBodyBytes)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            var headers: [(name: String, value: String)] = []
            for h in response.headers { headers.append((h.name, h.value)) }
            return HTTPResponseData(status: Int(response.status.code), headers: headers, body: bytes)
        } catch is CancellationError {
            throw CancellationError()
        } catch let e as HTTPClientError {
            if e == .cancelled { throw CancellationError() }
            throw AsyncHTTPTransport.classify(e)
        } catch {
            throw AsyncHTTPTransport.classify(error)
        }
    }

    /// Turns whatever NIO or AsyncHTTPClient threw into a short reason.
    static func classify(_ error: any Error) -> TransportFailure {
        if let e = error as? HTTPClientError {
            if e == .connectTimeout { return TransportFailure(reason: "connection timed out", notSent: true) }
            if e == .deadlineExceeded || e == .readTimeout || e == .writeTimeout {
                return TransportFailure(reason: "timed out waiting for the server", notSent: false)
            }
            if e == .remoteConnectionClosed {
                return TransportFailure(reason: "the server closed the connection", notSent: false)
            }
            if e == .invalidURL || e == .emptyHost || e == .emptyScheme {
                return TransportFailure(reason: "invalid URL (\(e))", notSent: true)
            }
        }
        if let e = error as? IOError {
            if e.errnoCode == ECONNREFUSED { return TransportFailure(reason: "connection refused", notSent: true) }
            return TransportFailure(reason: "\(e)", notSent: e.errnoCode == ENETUNREACH || e.errnoCode == EHOSTUNREACH)
        }
        let text = String(describing: error)
        if text.contains("ECONNREFUSED") || text.lowercased().contains("connection refused") {
            return TransportFailure(reason: "connection refused", notSent: true)
        }
        if text.contains("NIOConnectionError") || text.contains("connectTimeout") {
            let refused = text.contains("111") || text.lowercased().contains("refused")
            return TransportFailure(
                reason: refused ? "connection refused" : "could not connect (\(text))", notSent: true)
        }
        if text.contains("SSL") || text.contains("TLS") || text.contains("BoringSSL") {
            return TransportFailure(reason: "TLS handshake failed (\(text))", notSent: true)
        }
        if text.contains("getaddrinfo") || text.contains("resolve") || text.contains("NameResolution") {
            return TransportFailure(reason: "cannot resolve the host name (\(text))", notSent: true)
        }
        return TransportFailure(reason: text, notSent: false)
    }

    public func shutdown() async {
        guard !isShutDown.exchange(true, ordering: .sequentiallyConsistent) else { return }
        try? await client.shutdown()
    }

    deinit {
        // Dropped without shutdown(): close the pool in the background rather than trap (AsyncHTTPClient
        // requires a shutdown before its client goes away). The task keeps the client alive until then.
        if !isShutDown.load(ordering: .sequentiallyConsistent) {
            let client = self.client
            Task.detached { try? await client.shutdown() }
        }
    }
}
