import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The default transport: a pool of HTTP/1.1 keep-alive connections on SwiftNIO, one request at a time on
/// each connection, `http://` and `https://` (system trust roots).
///
/// It does per request only what a SCIM exchange needs: the request leaves in one write, and the response is
/// parsed (``HTTP1ResponseParser``, not NIO's HTTP handlers) on the connection's event loop and handed over
/// once. With it the whole client needs 70–90 µs of CPU per PATCH instead of about 250 µs with AsyncHTTPClient
/// (docs/performance.md), which matters because a bulk `patch` sends thousands of small requests. Redirects are
/// not followed and no proxy is used. ``AsyncHTTPTransport`` remains available for embedders who want
/// AsyncHTTPClient (HTTP/2, its pool).
public final class NIOHTTPTransport: HTTPTransport {
    /// The largest response body accepted.
    public let maxBodyBytes: Int
    /// How many idle connections are kept per host.
    public var maxIdlePerHost: Int { pool.maxIdlePerHost }
    let group: any EventLoopGroup
    let connectTimeout: TimeAmount
    let pool: ConnectionPool
    let tls = Mutex<NIOSSLContext?>(nil)
    /// The scheme and authority of the last request's URL, taken apart (see ``Target/Origin``).
    let lastOrigin = Mutex<Target.Origin?>(nil)

    /// The event loop every transport's connections live on: one thread for the process.
    ///
    /// A SCIM client's I/O is small and its parsing runs on Swift's cooperative pool, so a second I/O thread
    /// only adds wake-ups between threads: measured on 2 cores, one loop needs 10–20% less CPU per PATCH
    /// than NIO's default of one loop per core, and bulk writes get faster. Like NIO's own singletons it is
    /// never shut down.
    static let ioGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// A transport on the process's shared I/O thread. `maxConnectionsPerHost` caps the open connections to
    /// one host (`nil`: no cap; see ``limitConnections(perHost:)``).
    public init(
        maxIdlePerHost: Int = 64, maxBodyBytes: Int = 64 << 20, connectTimeout: Duration = .seconds(10),
        maxConnectionsPerHost: Int? = nil
    ) {
        self.group = NIOHTTPTransport.ioGroup
        self.pool = ConnectionPool(maxIdlePerHost: maxIdlePerHost, limit: maxConnectionsPerHost)
        self.maxBodyBytes = maxBodyBytes
        self.connectTimeout = TimeAmount(connectTimeout)
    }

    public func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData {
        let target = try Target.parse(request.url, reusing: lastOrigin)
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let exchange = Exchange(request: request, target: target, maxBodyBytes: maxBodyBytes, deadline: deadline)
        let endpoint = target.endpoint
        let withdrawal = Withdrawal.current
        if withdrawal?.isWithdrawn == true { throw Withdrawal.failure }
        var step = try pool.acquire(endpoint, exchange, withdrawal)
        while true {
            switch step {
            case .channel(let channel):
                return try await run(exchange, on: channel)
            case .connect:
                let channel: any Channel
                do {
                    channel = try await connect(endpoint, deadline: deadline)
                } catch {
                    pool.releaseSlot(endpoint)
                    throw error
                }
                return try await run(exchange, on: channel)
            case .wait(let waiter):
                do {
                    return try await withTaskCancellationHandler {
                        try await waiter.slot.value()
                    } onCancel: {
                        waiter.cancel()
                    }
                } catch is SlotReserved {
                    step = .connect
                } catch {
                    // Cancelled after a connection slot was set aside for it: give the slot to the next.
                    if waiter.hadReservation { pool.releaseSlot(endpoint) }
                    throw NIOHTTPTransport.mapped(error)
                }
            }
        }
    }

    /// Sends one exchange on a connection that is free; the connection's handler passes it on afterwards.
    func run(_ exchange: Exchange, on channel: any Channel) async throws -> HTTPResponseData {
        let slot = ResponseSlot()
        do {
            return try await withTaskCancellationHandler {
                // One hop to the event loop for the write and its failure callback together.
                channel.eventLoop.execute {
                    // A connection that closed before the exchange reached its handler (the pipeline is already
                    // torn down) fails the write, not the exchange: fail the exchange then, or it would wait
                    // forever.
                    let delivered = channel.eventLoop.makePromise(of: Void.self)
                    delivered.futureResult.whenFailure { _ in
                        slot.fail(TransportFailure(reason: "the server closed the connection", notSent: true))
                    }
                    channel.writeAndFlush(ExchangeHandler.Outbound(exchange: exchange, slot: slot), promise: delivered)
                }
                return try await slot.value()
            } onCancel: {
                slot.fail(CancellationError())
                channel.triggerUserOutboundEvent(ExchangeHandler.Abandon(slot: slot), promise: nil)
            }
        } catch {
            throw NIOHTTPTransport.mapped(error)
        }
    }

    static func mapped(_ error: any Error) -> any Error {
        if Task.isCancelled || error is CancellationError { return CancellationError() }
        return error as? TransportFailure ?? NIOHTTPTransport.classify(error, sent: true)
    }

    public func limitConnections(perHost limit: Int?) -> Bool {
        for waiter in pool.setLimit(limit) { waiter.slot.fail(SlotReserved()) }
        return true
    }

    public func shutdown() async {
        let (channels, waiters) = pool.shutDown()
        for w in waiters { w.slot.fail(TransportFailure(reason: "the client was shut down", notSent: true)) }
        for c in channels { try? await c.close() }
    }

    func connect(_ endpoint: Endpoint, deadline: NIODeadline) async throws -> any Channel {
        let tlsContext = endpoint.tls ? try sslContext() : nil
        let sni = endpoint.tls && !Target.isIPAddress(endpoint.host) ? endpoint.host : nil
        let maxBody = maxBodyBytes
        let pool = self.pool
        let wait = min(connectTimeout, max(.milliseconds(1), deadline - .now()))
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(wait)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tlsContext {
                        try sync.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: sni))
                    }
                    try sync.addHandler(ExchangeHandler(maxBodyBytes: maxBody, pool: pool, endpoint: endpoint))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            throw NIOHTTPTransport.classify(error, sent: false)
        }
        guard pool.opened(channel, endpoint) else {
            channel.close(promise: nil)
            throw TransportFailure(reason: "the client was shut down", notSent: true)
        }
        channel.closeFuture.whenComplete { [pool] _ in
            if let waiter = pool.closed(channel) { waiter.slot.fail(SlotReserved()) }
        }
        return channel
    }

    func sslContext() throws -> NIOSSLContext {
        try tls.withLock { cached in
            if let cached { return cached }
            do {
                let context = try NIOSSLContext(configuration: .makeClientConfiguration())
                cached = context
                return context
            } catch {
                throw TransportFailure(reason: "cannot set up TLS (\(error))", notSent: true)
            }
        }
    }

    /// Turns what NIO threw into a short reason. `sent` says whether the request may have left.
    static func classify(_ error: any Error, sent: Bool) -> TransportFailure {
        if let f = error as? TransportFailure { return f }
        if let e = error as? ChannelError {
            switch e {
            case .connectTimeout: return TransportFailure(reason: "connection timed out", notSent: true)
            case .eof, .alreadyClosed, .ioOnClosedChannel, .outputClosed:
                return TransportFailure(reason: "the server closed the connection", notSent: !sent)
            default: break
            }
        }
        if let e = error as? NIOConnectionError {
            let refused = e.connectionErrors.contains { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }
            if refused { return TransportFailure(reason: "connection refused", notSent: true) }
            if e.connectionErrors.isEmpty {
                return TransportFailure(reason: "cannot resolve the host name '\(e.host)'", notSent: true)
            }
            let first = e.connectionErrors.first.map { "\($0.error)" } ?? "\(e)"
            return TransportFailure(reason: "could not connect (\(first))", notSent: true)
        }
        if let e = error as? IOError {
            if e.errnoCode == ECONNREFUSED { return TransportFailure(reason: "connection refused", notSent: true) }
            if e.errnoCode == ECONNRESET {
                return TransportFailure(reason: "the server reset the connection", notSent: !sent)
            }
            return TransportFailure(reason: "\(e)", notSent: !sent)
        }
        if error is NIOSSLError || error is BoringSSLError {
            // A failed handshake: the request was still held by the TLS handler, nothing reached the server.
            return TransportFailure(reason: "TLS handshake failed (\(error))", notSent: true)
        }
        return TransportFailure(reason: "\(error)", notSent: !sent)
    }

    deinit {
        let (channels, waiters) = pool.shutDown()
        for w in waiters { w.slot.fail(TransportFailure(reason: "the client was shut down", notSent: true)) }
        for c in channels { c.close(promise: nil) }
    }
}

/// Where one exchange's answer or failure is delivered: once (later completions are ignored), from any
/// thread, to the task waiting for it.
///
/// An `EventLoopPromise` would do, but waiting on its future from a task registers the callback with a hop to
/// the event loop, once per request; here the waiting task leaves its continuation under a lock instead.
final class ResponseSlot: Sendable {
    enum State {
        case empty
        case waiting(UnsafeContinuation<HTTPResponseData, any Error>)
        case done(Result<HTTPResponseData, any Error>)
        case taken
    }
    private let state = Mutex<State>(.empty)

    func succeed(_ response: HTTPResponseData) { complete(.success(response)) }

    func fail(_ error: any Error) { complete(.failure(error)) }

    /// Delivers the outcome, unless one was delivered before.
    func complete(_ result: Result<HTTPResponseData, any Error>) {
        let waiting = state.withLock { s -> UnsafeContinuation<HTTPResponseData, any Error>? in
            switch s {
            case .empty:
                s = .done(result)
                return nil
            case .waiting(let c):
                s = .taken
                return c
            case .done, .taken:
                return nil
            }
        }
        waiting?.resume(with: result)
    }

    /// The outcome, once delivered. Only one task may wait.
    func value() async throws -> HTTPResponseData {
        try await withUnsafeThrowingContinuation { c in
            let ready = state.withLock { s -> Result<HTTPResponseData, any Error>? in
                switch s {
                case .empty:
                    s = .waiting(c)
                    return nil
                case .done(let result):
                    s = .taken
                    return result
                case .waiting, .taken:
                    return .failure(TransportFailure(reason: "internal error: an answer awaited twice", notSent: false))
                }
            }
            if let ready { c.resume(with: ready) }
        }
    }

    /// The outcome if it was delivered and not yet taken (for tests that drive the handler by hand).
    var delivered: Result<HTTPResponseData, any Error>? {
        state.withLock { s in
            if case .done(let result) = s { return result }
            return nil
        }
    }
}

/// Thrown to a waiting request when a connection slot was set aside for it: it opens a connection itself.
struct SlotReserved: Error {}

/// A request waiting for a connection to one host.
final class Waiter: Sendable {
    let exchange: Exchange
    let withdrawal: Withdrawal?
    /// Where its answer or failure goes.
    let slot = ResponseSlot()
    private let state = Mutex<(cancelled: Bool, reserved: Bool, channel: (any Channel)?)>((false, false, nil))

    init(exchange: Exchange, withdrawal: Withdrawal?) {
        self.exchange = exchange
        self.withdrawal = withdrawal
    }

    /// Whether a connection slot was set aside for this request (it must be given back if unused).
    var hadReservation: Bool { state.withLock { $0.reserved } }

    /// Sets a connection slot aside for this request; false when it was cancelled or withdrawn (then failed).
    func reserve() -> Bool {
        if withdrawal?.isWithdrawn == true { return withdraw() }
        return state.withLock { s in
            guard !s.cancelled, s.channel == nil, !s.reserved else { return false }
            s.reserved = true
            return true
        }
    }

    /// Gives this request a free connection; false when it was cancelled or withdrawn (then failed).
    func claim(_ channel: any Channel) -> Bool {
        if withdrawal?.isWithdrawn == true { return withdraw() }
        return state.withLock { s in
            guard !s.cancelled, s.channel == nil, !s.reserved else { return false }
            s.channel = channel
            return true
        }
    }

    /// Fails the request as withdrawn (it never left); always false, for ``reserve()`` and ``claim(_:)``.
    func withdraw() -> Bool {
        state.withLock { $0.cancelled = true }
        slot.fail(Withdrawal.failure)
        return false
    }

    /// The task waiting for this request was cancelled: stop waiting, and abandon the exchange if it started.
    func cancel() {
        let channel = state.withLock { s -> (any Channel)? in
            s.cancelled = true
            return s.channel
        }
        slot.fail(CancellationError())
        channel?.triggerUserOutboundEvent(ExchangeHandler.Abandon(slot: slot), promise: nil)
    }
}

/// The connections of one transport: idle ones per host, how many are open or opening per host, and the
/// requests waiting in line when a cap is set.
final class ConnectionPool: Sendable {
    struct State {
        var idle: [Endpoint: [any Channel]] = [:]
        var open: [ObjectIdentifier: (channel: any Channel, endpoint: Endpoint)] = [:]
        /// Open or opening connections per host.
        var count: [Endpoint: Int] = [:]
        var waiting: [Endpoint: CircularBuffer<Waiter>] = [:]
        var limit: Int?
        var isShutDown = false

        func hasRoom(_ endpoint: Endpoint) -> Bool {
            limit.map { count[endpoint, default: 0] < $0 } ?? true
        }

        /// The first waiting request that is still wanted, with a connection slot set aside for it.
        mutating func reserveForWaiter(_ endpoint: Endpoint) -> Waiter? {
            guard !isShutDown, hasRoom(endpoint) else { return nil }
            while let w = waiting[endpoint]?.popFirst() {
                if w.reserve() {
                    count[endpoint, default: 0] += 1
                    return w
                }
            }
            return nil
        }
    }

    enum Step {
        /// Use this idle connection.
        case channel(any Channel)
        /// Open a connection (its slot is counted).
        case connect
        /// Wait in line.
        case wait(Waiter)
    }

    let state: Mutex<State>
    let maxIdlePerHost: Int

    init(maxIdlePerHost: Int, limit: Int?) {
        self.maxIdlePerHost = maxIdlePerHost
        var s = State()
        s.limit = limit.map { max(1, $0) }
        self.state = Mutex(s)
    }

    func acquire(_ endpoint: Endpoint, _ exchange: Exchange, _ withdrawal: Withdrawal?) throws -> Step {
        try state.withLock { s throws(TransportFailure) -> Step in
            guard !s.isShutDown else { throw TransportFailure(reason: "the client was shut down", notSent: true) }
            while var list = s.idle[endpoint], let c = list.popLast() {
                s.idle[endpoint] = list
                if c.isActive { return .channel(c) }
            }
            guard s.hasRoom(endpoint) else {
                let w = Waiter(exchange: exchange, withdrawal: withdrawal)
                s.waiting[endpoint, default: []].append(w)
                return .wait(w)
            }
            s.count[endpoint, default: 0] += 1
            return .connect
        }
    }

    /// Records a new connection; false when the transport was shut down meanwhile.
    func opened(_ channel: any Channel, _ endpoint: Endpoint) -> Bool {
        state.withLock { s in
            guard !s.isShutDown else { return false }
            s.open[ObjectIdentifier(channel)] = (channel, endpoint)
            return true
        }
    }

    /// A connection closed: its slot goes to the next waiting request, if any (returned, to be told).
    func closed(_ channel: any Channel) -> Waiter? {
        state.withLock { s in
            guard let (_, endpoint) = s.open.removeValue(forKey: ObjectIdentifier(channel)) else { return nil }
            if var list = s.idle[endpoint], let i = list.firstIndex(where: { $0 === channel }) {
                list.remove(at: i)
                s.idle[endpoint] = list
            }
            s.count[endpoint, default: 1] -= 1
            return s.reserveForWaiter(endpoint)
        }
    }

    /// A slot counted for a connection that was never opened (or not used) is free again.
    func releaseSlot(_ endpoint: Endpoint) {
        let next = state.withLock { s -> Waiter? in
            s.count[endpoint, default: 1] -= 1
            return s.reserveForWaiter(endpoint)
        }
        next?.slot.fail(SlotReserved())
    }

    /// A connection finished an exchange and can carry another: the next waiting request's (returned, for the
    /// caller to send on it), else it goes idle (or closes, beyond `maxIdlePerHost` or after shutdown).
    func release(_ channel: any Channel, _ endpoint: Endpoint) -> Waiter? {
        let (waiter, close) = state.withLock { s -> (Waiter?, Bool) in
            guard !s.isShutDown, channel.isActive else { return (nil, true) }
            // Even above a lowered cap: the connection is open anyway, and a waiter has no other way out.
            while let w = s.waiting[endpoint]?.popFirst() {
                if w.claim(channel) { return (w, false) }
            }
            guard s.idle[endpoint, default: []].count < maxIdlePerHost else { return (nil, true) }
            s.idle[endpoint, default: []].append(channel)
            return (nil, false)
        }
        if close { channel.close(promise: nil) }
        return waiter
    }

    /// Sets the cap; returns the waiting requests that now have room (each with a slot set aside).
    func setLimit(_ limit: Int?) -> [Waiter] {
        state.withLock { s in
            s.limit = limit.map { max(1, $0) }
            var woken: [Waiter] = []
            for endpoint in Array(s.waiting.keys) {
                while let w = s.reserveForWaiter(endpoint) { woken.append(w) }
            }
            return woken
        }
    }

    /// Marks the pool shut down; returns the open connections and the waiting requests, to close and fail.
    func shutDown() -> ([any Channel], [Waiter]) {
        state.withLock { s in
            s.isShutDown = true
            s.idle = [:]
            let waiters = s.waiting.values.flatMap { Array($0) }
            s.waiting = [:]
            return (s.open.values.map(\.channel), waiters)
        }
    }
}

/// Scheme, host and port: what a pooled connection is for.
struct Endpoint: Hashable, Sendable {
    var tls: Bool
    var host: String
    var port: Int
}

/// A request URL taken apart.
struct Target: Sendable {
    var endpoint: Endpoint
    /// The `Host` header: the authority as written.
    var authority: String
    /// Path and query, at least `/`.
    var pathAndQuery: String

    init(endpoint: Endpoint, authority: String, pathAndQuery: String) {
        self.endpoint = endpoint
        self.authority = authority
        self.pathAndQuery = pathAndQuery
    }

    /// A URL's scheme and authority, as written, with what they were taken apart into: the requests of a
    /// client all go to one server, so for the next URL with the same start only the path is new (taking the
    /// whole URL apart was 2% of a bulk write's work).
    struct Origin: Sendable {
        /// `http://host:port`, as the URL has it.
        let prefix: [UInt8]
        let endpoint: Endpoint
        let authority: String

        /// The target of `url` when it starts with ``prefix`` and a `/`, and has no fragment.
        func target(_ url: String) -> Target? {
            let path = url.utf8.withContiguousStorageIfAvailable { u -> String? in
                guard u.count > prefix.count, u[prefix.count] == UInt8(ascii: "/") else { return nil }
                for i in prefix.indices where u[i] != prefix[i] { return nil }
                let rest = UnsafeBufferPointer(rebasing: u[prefix.count...])
                guard !rest.contains(UInt8(ascii: "#")) else { return nil }
                return String(decoding: rest, as: UTF8.self)
            }
            guard let path = path ?? nil else { return nil }
            return Target(endpoint: endpoint, authority: authority, pathAndQuery: path)
        }
    }

    /// `url` taken apart, reusing the last origin when the URL starts with it (and remembering its own).
    static func parse(_ url: String, reusing last: borrowing Mutex<Origin?>) throws -> Target {
        if let origin = last.withLock({ $0 }), let target = origin.target(url) { return target }
        let target = try Target(url: url)
        let prefix = Array(((target.endpoint.tls ? "https://" : "http://") + target.authority).utf8)
        let origin = Origin(prefix: prefix, endpoint: target.endpoint, authority: target.authority)
        // Only a URL that reads back the same from the origin is remembered (not one with user info, say).
        if let again = origin.target(url), again.pathAndQuery == target.pathAndQuery {
            last.withLock { $0 = origin }
        }
        return target
    }

    init(url: String) throws {
        func invalid(_ why: String) -> TransportFailure {
            TransportFailure(reason: "invalid URL '\(url)': \(why)", notSent: true)
        }
        // Byte-wise: this runs for every request.
        let bytes = url.utf8
        let tls: Bool
        var i: String.UTF8View.Index
        if url.hasPrefix("http://") {
            tls = false
            i = bytes.index(bytes.startIndex, offsetBy: 7)
        } else if url.hasPrefix("https://") {
            tls = true
            i = bytes.index(bytes.startIndex, offsetBy: 8)
        } else {
            throw invalid("it must start with http:// or https://")
        }
        var authorityStart = i
        while i != bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "/") || b == UInt8(ascii: "?") || b == UInt8(ascii: "#") { break }
            if b == UInt8(ascii: "@") { authorityStart = bytes.index(after: i) }
            bytes.formIndex(after: &i)
        }
        let authority = Substring(bytes[authorityStart..<i])
        var pathEnd = i
        while pathEnd != bytes.endIndex, bytes[pathEnd] != UInt8(ascii: "#") { bytes.formIndex(after: &pathEnd) }
        var path = String(Substring(bytes[i..<pathEnd]))
        if path.isEmpty || path.utf8.first == UInt8(ascii: "?") { path = "/" + path }
        var host = authority
        var port = tls ? 443 : 80
        if authority.utf8.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("unclosed '[' in the host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.first == ":" {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw invalid("bad port") }
                port = p
            } else if !after.isEmpty {
                throw invalid("unexpected text after the host")
            }
        } else if let colon = authority.utf8.lastIndex(of: UInt8(ascii: ":")) {
            host = authority[..<colon]
            let p = authority[authority.utf8.index(after: colon)...]
            if !p.isEmpty {
                guard let n = Int(p), (1...65535).contains(n) else { throw invalid("bad port '\(p)'") }
                port = n
            }
        }
        guard !host.isEmpty else { throw invalid("no host") }
        self.endpoint = Endpoint(tls: tls, host: String(host), port: port)
        self.authority = String(authority)
        self.pathAndQuery = path
    }

    static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || (host.split(separator: ".").count == 4 && host.allSatisfy { $0 == "." || $0.isNumber })
    }
}

/// One request on its way, as the handler needs it.
struct Exchange: Sendable {
    var request: HTTPRequestData
    var target: Target
    var maxBodyBytes: Int
    var deadline: NIODeadline
}

/// Writes one request and gathers its response; fails the request when the connection breaks or the
/// deadline passes. After a response that leaves the connection open, it sends the next waiting request at
/// once (or returns the connection to the pool), then hands the response over.
final class ExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = Outbound
    typealias OutboundOut = ByteBuffer

    struct Outbound {
        var exchange: Exchange
        var slot: ResponseSlot
    }

    /// The caller gave up on the exchange answered into this slot: close the connection if it is still running.
    struct Abandon {
        var slot: ResponseSlot
    }

    let maxBodyBytes: Int
    let pool: ConnectionPool
    let endpoint: Endpoint
    var pending: ResponseSlot?
    var parser: HTTP1ResponseParser
    /// Bytes read and not yet parsed.
    var received: ByteBuffer?
    /// The running exchange's deadline.
    var deadline: NIODeadline?
    /// One timer per connection, not per request: armed for some deadline no later than the running
    /// exchange's; when it fires early (the exchange it was armed for is over) it re-arms for the current one.
    var timer: (at: NIODeadline, task: Scheduled<Void>)?
    var sent = false

    /// Whether the TLS handshake is done (always, without TLS): until then a written request is still held
    /// by the TLS handler and has not reached the server.
    var handshakeDone: Bool

    init(maxBodyBytes: Int, pool: ConnectionPool, endpoint: Endpoint) {
        self.maxBodyBytes = maxBodyBytes
        self.pool = pool
        self.endpoint = endpoint
        self.handshakeDone = !endpoint.tls
        self.parser = HTTP1ResponseParser(maxBodyBytes: maxBodyBytes)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            handshakeDone = true
            if pending != nil { sent = true }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Delivered: from here the exchange's own promise reports what happens.
        promise?.succeed(())
        let out = unwrapOutboundIn(data)
        if !start(context, out.exchange, out.slot) { serveNext(context) }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let abandon = event as? Abandon {
            if let p = pending, p === abandon.slot {
                fail(context, TransportFailure(reason: "cancelled", notSent: !sent))
            }
            promise?.succeed(())
            return
        }
        context.triggerUserOutboundEvent(event, promise: promise)
    }

    /// Sends an exchange; false when it failed before anything was written (the connection is still free).
    func start(_ context: ChannelHandlerContext, _ exchange: Exchange, _ promise: ResponseSlot) -> Bool {
        guard pending == nil else {
            promise.fail(TransportFailure(reason: "internal error: connection busy", notSent: true))
            return true
        }
        guard context.channel.isActive else {
            promise.fail(TransportFailure(reason: "the server closed the connection", notSent: true))
            return true
        }
        guard exchange.deadline > .now() else {
            promise.fail(TransportFailure(reason: "timed out waiting for a free connection", notSent: true))
            return false
        }
        var out = context.channel.allocator.buffer(capacity: 512 + (exchange.request.body?.count ?? 0))
        do {
            try HTTP1RequestWriter.write(exchange.request, target: exchange.target, into: &out)
        } catch {
            promise.fail(error)
            return false
        }
        pending = promise
        parser.reset(headOnly: exchange.request.method == "HEAD")
        received = nil
        sent = false
        deadline = exchange.deadline
        // A timer armed for an earlier moment re-arms when it fires; only a later one must move.
        if timer.map({ $0.at > exchange.deadline }) ?? true { arm(context, at: exchange.deadline) }
        // From here on the request may reach the server (over TLS, once the handshake is done): a failure no
        // longer proves it did not.
        sent = handshakeDone
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        return true
    }

    func arm(_ context: ChannelHandlerContext, at when: NIODeadline) {
        timer?.task.cancel()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let contextBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = (
            when, context.eventLoop.scheduleTask(deadline: when) { loopBound.value.timerFired(contextBound.value) }
        )
    }

    func timerFired(_ context: ChannelHandlerContext) {
        timer = nil
        guard pending != nil, let deadline else { return }
        if deadline <= .now() {
            fail(context, TransportFailure(reason: "timed out waiting for the server", notSent: false))
        } else {
            arm(context, at: deadline)
        }
    }

    /// The connection is free: send the next waiting request on it, or let the pool keep it.
    func serveNext(_ context: ChannelHandlerContext) {
        while let waiter = pool.release(context.channel, endpoint) {
            if start(context, waiter.exchange, waiter.slot) { return }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        guard let promise = pending else {
            // Bytes nobody asked for (a late answer, a server's goodbye): the connection cannot be trusted to
            // frame the next answer.
            context.close(promise: nil)
            return
        }
        if received == nil { received = part } else { received!.writeBuffer(&part) }
        let response: HTTP1ResponseParser.Response
        do {
            guard let r = try parser.parse(&received!) else {
                if received!.readerIndex > 16 << 10 { received!.discardReadBytes() }
                return
            }
            response = r
        } catch {
            fail(
                context,
                TransportFailure(
                    reason: error.tooLarge ? error.why : "the server's answer is not valid HTTP (\(error.why))",
                    notSent: !sent))
            return
        }
        // Bytes after the answer to the one request on the connection: it is out of step, do not reuse it.
        let reusable = response.keepAlive && received!.readableBytes == 0
        received = nil
        deliver(context, promise, response, reusable: reusable)
    }

    /// Hands a complete answer over. The next request leaves before it is handed over: the server is not kept
    /// waiting for the caller's turn on a thread.
    func deliver(
        _ context: ChannelHandlerContext, _ promise: ResponseSlot, _ response: HTTP1ResponseParser.Response,
        reusable: Bool
    ) {
        pending = nil
        deadline = nil
        if reusable { serveNext(context) } else { context.close(promise: nil) }
        promise.succeed(HTTPResponseData(status: response.status, headers: response.headers, body: response.body))
    }

    func channelInactive(context: ChannelHandlerContext) {
        // An answer without a length ends with the close.
        if let promise = pending, let response = parser.closed() {
            deliver(context, promise, response, reusable: false)
        }
        if !handshakeDone {
            // Whichever NIOSSL reports first, the close or the handshake error: nothing passed the handshake.
            fail(
                context,
                TransportFailure(reason: "TLS handshake failed (the server closed the connection)", notSent: true))
        }
        fail(context, TransportFailure(reason: "the server closed the connection", notSent: !sent))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        var failure = NIOHTTPTransport.classify(error, sent: sent)
        if !handshakeDone, !failure.reason.hasPrefix("TLS handshake failed") {
            // A reset (or anything else) before the handshake ended: nothing passed it.
            failure = TransportFailure(reason: "TLS handshake failed (\(failure.reason))", notSent: true)
        }
        fail(context, failure)
    }

    func fail(_ context: ChannelHandlerContext, _ failure: TransportFailure) {
        timer?.task.cancel()
        timer = nil
        deadline = nil
        if let promise = pending {
            pending = nil
            promise.fail(failure)
        }
        context.close(promise: nil)
    }
}
