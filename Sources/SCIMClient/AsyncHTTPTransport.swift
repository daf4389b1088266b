import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOPosix
import NIOSSL
import SCIMCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The client's transport: AsyncHTTPClient with keep-alive pooling, HTTP/2 where a TLS server offers it,
/// certificate checks, proxies (HTTPS through `CONNECT`), idle timeouts and gzip/deflate decompression.
///
/// Failures come back as ``TransportFailure``s classified by AsyncHTTPClient's, NIO's and NIOSSL's error
/// types: whether the request certainly never reached the server (so even a POST may be retried) and a reason
/// a person can act on ("the server's certificate has expired", "the proxy refused the credentials").
public final class AsyncHTTPTransport: HTTPTransport {
    let client: HTTPClient?
    /// Why no client could be made from the settings (an unreadable CA file, say); every request fails with it.
    let setupFailure: TransportFailure?
    let isShutDown = Atomic<Bool>(false)
    /// The settings the transport was made with.
    public let settings: TransportSettings
    /// Answers over 1 MiB are read and decoded one at a time, whatever the concurrency (memory stays bounded).
    let largeAnswers = LargeAnswerGate(threshold: 1 << 20)

    /// A transport with these settings. Settings that cannot be used (a CA file that is missing or holds no
    /// certificate) do not throw here: every request then fails with a message that says what to fix.
    public init(settings: TransportSettings = TransportSettings()) {
        self.settings = settings
        do {
            var config = HTTPClient.Configuration()
            config.tlsConfiguration = try AsyncHTTPTransport.tlsConfiguration(settings.tls)
            config.connectionPool = .init(
                idleTimeout: .nanoseconds(AsyncHTTPTransport.nanos(settings.idleTimeout)),
                concurrentHTTP1ConnectionsPerHostSoftLimit: settings.maxConnectionsPerHost)
            // Fail fast on refused connections; the SCIM client's own retry policy decides what to do.
            config.connectionPool.retryConnectionEstablishment = false
            config.timeout.connect = .seconds(10)
            config.redirectConfiguration = .disallow
            config.decompression = .enabled(limit: .size(settings.maxBodyBytes))
            // No distributed tracing: the default no-op tracer still parses every URL again.
            config.tracing.tracer = nil
            if let p = settings.proxy {
                switch p.kind {
                case .http:
                    let auth = p.username.map {
                        HTTPClient.Authorization.basic(username: $0, password: p.password ?? "")
                    }
                    config.proxy = .server(host: p.host, port: p.port, authorization: auth)
                case .socks5:
                    config.proxy = .socksServer(host: p.host, port: p.port)
                }
            }
            client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
            setupFailure = nil
        } catch {
            client = nil
            setupFailure = error
            isShutDown.store(true, ordering: .relaxed)
        }
    }

    /// A transport keeping up to `maxConnections` connections per host, verifying TLS against the system's
    /// store and using no proxy.
    public convenience init(maxConnections: Int) {
        self.init(settings: TransportSettings(maxConnectionsPerHost: maxConnections))
    }

    static func nanos(_ d: Duration) -> Int64 {
        let c = d.components
        let (s, overflow) = c.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : s &+ c.attoseconds / 1_000_000_000
    }

    /// The TLS configuration for the settings; throws a failure that says which file is wrong and why.
    static func tlsConfiguration(_ tls: TLSSettings) throws(TransportFailure) -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        if tls.insecure {
            config.certificateVerification = .none
        } else if let ca = tls.caFile {
            // NIOSSL reads the file when the first TLS connection makes its context, so a plain-http session
            // never parses it. SSL_CERT_FILE often names the system's whole bundle (~140 certificates): parsing
            // it here took a third of the instructions of `scimsh -c 'get ID'` (docs/performance.md).
            try checkHoldsPEMCertificate(ca, what: "CA file")
            config.trustRoots = .file(ca)
        }
        switch (tls.certFile, tls.keyFile) {
        case (nil, nil):
            break
        case (let cert?, let key?):
            config.certificateChain = try loadCertificates(cert, what: "client certificate").map { .certificate($0) }
            try checkReadable(key, what: "client key")
            do {
                config.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            } catch {
                throw TransportFailure(
                    reason: "cannot use the client key '\(key)': it is not an unencrypted PEM private key "
                        + "(convert it with: openssl pkey -in KEY -out key.pem)", notSent: true)
            }
        case (_?, nil):
            throw TransportFailure(
                reason: "a client certificate needs its key: give --key FILE (or set key_file) too", notSent: true)
        case (nil, _?):
            throw TransportFailure(
                reason: "a client key needs its certificate: give --cert FILE (or set cert_file) too", notSent: true)
        }
        return config
    }

    static func checkReadable(_ path: String, what: String) throws(TransportFailure) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let why = String(cString: strerror(errno))
            throw TransportFailure(reason: "cannot read the \(what) '\(path)': \(why)", notSent: true)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw TransportFailure(reason: "the \(what) '\(path)' is not a regular file", notSent: true)
        }
        guard access(path, R_OK) == 0 else {
            throw TransportFailure(reason: "cannot read the \(what) '\(path)': permission denied", notSent: true)
        }
    }

    /// Checks that `path` is a readable file with a PEM certificate in it, without parsing the certificates.
    static func checkHoldsPEMCertificate(_ path: String, what: String) throws(TransportFailure) {
        try checkReadable(path, what: what)
        guard fileContains(path, Array("-----BEGIN CERTIFICATE-----".utf8)) else {
            throw noPEMCertificate(path, what: what)
        }
    }

    /// Whether the file at `path` holds `marker` (read in 64 KiB chunks; false if it cannot be read).
    static func fileContains(_ path: String, _ marker: [UInt8]) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var window: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            // The tail of the previous chunk, so a marker split across two reads is found.
            window.append(contentsOf: chunk[0..<n])
            if window.count >= marker.count {
                for start in 0...(window.count - marker.count)
                where window[start] == marker[0] && window[start..<(start + marker.count)].elementsEqual(marker) {
                    return true
                }
                window.removeFirst(window.count - (marker.count - 1))
            }
        }
    }

    static func noPEMCertificate(_ path: String, what: String) -> TransportFailure {
        TransportFailure(
            reason: "the \(what) '\(path)' holds no PEM certificate (-----BEGIN CERTIFICATE-----); "
                + "convert a DER file with: openssl x509 -inform der -in FILE -out FILE.pem", notSent: true)
    }

    static func loadCertificates(_ path: String, what: String) throws(TransportFailure) -> [NIOSSLCertificate] {
        try checkReadable(path, what: what)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            certificates = []
        }
        guard !certificates.isEmpty else { throw noPEMCertificate(path, what: what) }
        return certificates
    }

    public func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData {
        if let setupFailure { throw setupFailure }
        guard let client else { throw TransportFailure(reason: "the transport is shut down", notSent: true) }
        var r = HTTPClientRequest(url: request.url)
        r.method = HTTPMethod(rawValue: request.method)
        for h in request.headers { r.headers.add(name: h.name, value: h.value) }
        if let body = request.body {
            r.body = .bytes(ByteBuffer(bytes: body))
        }
        let ticket = largeAnswers.enter()
        defer { largeAnswers.leave(ticket) }
        do {
            let response = try await client.execute(r, timeout: .nanoseconds(AsyncHTTPTransport.nanos(timeout)))
            // A large answer waits for the gate's permit before more of it is read (the connection is not read
            // meanwhile), and keeps it until it has been decoded: see LargeAnswerGate.
            var lease: LargeAnswerGate.Lease?
            if let length = response.headers.first(name: "content-length").flatMap({ Int($0) }),
                length > largeAnswers.threshold
            {
                lease = await largeAnswers.acquire(ticket)
            }
            var buffer = ByteBuffer()
            for try await var chunk in response.body {
                let size = buffer.readableBytes + chunk.readableBytes
                guard size <= settings.maxBodyBytes else { throw TransportErrors.tooLarge(settings.maxBodyBytes) }
                if lease == nil, size > largeAnswers.threshold { lease = await largeAnswers.acquire(ticket) }
                buffer.writeBuffer(&chunk)
            }
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            var headers: [(name: String, value: String)] = []
            headers.reserveCapacity(response.headers.count)
            for h in response.headers { headers.append((h.name, h.value)) }
            var data = HTTPResponseData(status: Int(response.status.code), headers: headers, body: bytes)
            data.lease = lease
            return data
        } catch is CancellationError {
            throw CancellationError()
        } catch let e as HTTPClientError where e == .cancelled {
            throw CancellationError()
        } catch {
            var failure = TransportErrors.classify(error, maxBodyBytes: settings.maxBodyBytes)
            if let ca = settings.tls.caFile, let e = error as? BoringSSLError, "\(e)".contains("PEM routines") {
                // The CA file is read when the first TLS connection makes its context (tlsConfiguration checks
                // only that it holds a PEM marker).
                failure = TransportFailure(
                    reason: "cannot use the CA file '\(ca)': a certificate in it does not parse (\(e))", notSent: true)
            }
            if failure.reason == TransportErrors.untrustedCertificate, let origin = RequestOrigin(request.url) {
                failure.reason = await TLSDiagnosis.explain(origin: origin, settings: settings)
            }
            throw failure
        }
    }

    public func shutdown() async {
        guard !isShutDown.exchange(true, ordering: .sequentiallyConsistent), let client else { return }
        try? await client.shutdown()
    }

    deinit {
        // Dropped without shutdown(): close the pool in the background rather than trap (AsyncHTTPClient
        // requires a shutdown before its client goes away). The task keeps the client alive until then.
        if !isShutDown.load(ordering: .sequentiallyConsistent), let client {
            Task.detached { try? await client.shutdown() }
        }
    }
}

/// The scheme, host and port of a request URL.
struct RequestOrigin: Sendable {
    var scheme: String
    var host: String
    var port: Int

    init?(_ url: String) {
        guard let o = SCIMConfiguration(host: url).origin else { return nil }
        scheme = o.scheme
        host = o.host
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        port = o.port
    }
}

/// Turns what AsyncHTTPClient, NIO and NIOSSL throw into a ``TransportFailure``, by the errors' types.
enum TransportErrors {
    /// The reason given for a certificate that did not verify; ``TLSDiagnosis`` replaces it with the precise
    /// one.
    static let untrustedCertificate = "the server's certificate is not trusted"

    static func classify(_ error: any Error, maxBodyBytes: Int) -> TransportFailure {
        if let e = error as? TransportFailure { return e }
        if let e = error as? HTTPClientError { return classify(e, maxBodyBytes: maxBodyBytes) }
        if let e = error as? NIOConnectionError { return classify(e) }
        if let e = error as? IOError { return classify(e, sent: false) }
        if let e = error as? NIOSSLExtraError, e == .failedToValidateHostname {
            return TransportFailure(
                reason: "the server's certificate is not valid for this host name (\(e)): use the name the "
                    + "certificate was issued for, or ask the server's admins for a certificate that names this one",
                notSent: true)
        }
        if let e = error as? NIOSSLError { return classify(e) }
        if error is NIOTooManyBytesError { return tooLarge(maxBodyBytes) }
        if let e = error as? HTTPParserError {
            if e == .invalidEOFState {
                return TransportFailure(reason: "the server's answer was cut short (\(e))", notSent: false)
            }
            return TransportFailure(reason: "the server's answer is not valid HTTP (\(e))", notSent: false)
        }
        if let e = error as? NIOHTTPDecompression.DecompressionError {
            return TransportFailure(
                reason: "the server's compressed answer is broken or unpacks to more than \(maxBodyBytes >> 20) MiB "
                    + "(\(e))", notSent: false)
        }
        if let e = error as? ChannelError {
            switch e {
            case .connectTimeout:
                return TransportFailure(reason: "connection timed out", notSent: true)
            case .ioOnClosedChannel, .eof, .alreadyClosed, .outputClosed:
                return TransportFailure(reason: "the server closed the connection", notSent: false)
            default:
                return TransportFailure(reason: "connection failed (\(e))", notSent: false)
            }
        }
        return TransportFailure(reason: "\(error)", notSent: false)
    }

    /// An answer over the body limit.
    static func tooLarge(_ maxBodyBytes: Int) -> TransportFailure {
        TransportFailure(
            reason: "the answer is larger than \(maxBodyBytes >> 20) MiB; ask for smaller pages (set page_size)",
            notSent: false)
    }

    static func classify(_ e: HTTPClientError, maxBodyBytes: Int) -> TransportFailure {
        switch e {
        case .connectTimeout:
            return TransportFailure(reason: "connection timed out: is the host reachable from here?", notSent: true)
        case .tlsHandshakeTimeout:
            return TransportFailure(reason: "the TLS handshake timed out", notSent: true)
        case .httpProxyHandshakeTimeout, .socksHandshakeTimeout:
            return TransportFailure(reason: "the proxy did not answer in time", notSent: true)
        case .proxyAuthenticationRequired:
            return TransportFailure(
                reason: "the proxy asks for credentials (407 Proxy Authentication Required): put them in the proxy "
                    + "URL, http://USER:PASSWORD@proxy:port", notSent: true)
        case .invalidProxyResponse:
            return TransportFailure(
                reason: "the proxy refused to open a tunnel to the server (its answer to CONNECT was not 200): "
                    + "check that the proxy allows this host and port, or add the host to no_proxy", notSent: true)
        case .deadlineExceeded, .readTimeout, .writeTimeout:
            return TransportFailure(reason: "timed out waiting for the server", notSent: false)
        case .getConnectionFromPoolTimeout:
            return TransportFailure(reason: "timed out waiting for a connection", notSent: true)
        case .remoteConnectionClosed:
            return TransportFailure(reason: "the server closed the connection", notSent: false)
        case .invalidURL, .emptyHost, .emptyScheme:
            return TransportFailure(reason: "invalid URL (\(e))", notSent: true)
        case .alreadyShutdown:
            return TransportFailure(reason: "the transport is shut down", notSent: true)
        case .invalidProxyConfiguration:
            return TransportFailure(reason: "invalid proxy settings", notSent: true)
        case .bodyLengthMismatch, .contentLengthMissing:
            return TransportFailure(reason: "the server's answer was cut short or malformed (\(e))", notSent: false)
        default:
            return TransportFailure(reason: "\(e)", notSent: false)
        }
    }

    static func classify(_ e: NIOConnectionError) -> TransportFailure {
        if e.dnsAError != nil || e.dnsAAAAError != nil, e.connectionErrors.isEmpty {
            return TransportFailure(
                reason: "cannot resolve the host name '\(e.host)': check the spelling, or the DNS of this network",
                notSent: true)
        }
        if let first = e.connectionErrors.first?.error {
            var f = classify(first, maxBodyBytes: 0)
            f.notSent = true
            return f
        }
        return TransportFailure(reason: "could not connect to \(e.host):\(e.port)", notSent: true)
    }

    static func classify(_ e: IOError, sent: Bool) -> TransportFailure {
        switch e.errnoCode {
        case ECONNREFUSED:
            return TransportFailure(reason: "connection refused", notSent: true)
        case ENETUNREACH, EHOSTUNREACH:
            return TransportFailure(reason: "no route to the host (\(e))", notSent: true)
        case ECONNRESET, EPIPE:
            return TransportFailure(reason: "the server reset the connection", notSent: sent)
        default:
            return TransportFailure(reason: "\(e)", notSent: sent)
        }
    }

    static func classify(_ e: NIOSSLError) -> TransportFailure {
        switch e {
        case .handshakeFailed(let inner):
            let text = "\(inner)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                return TransportFailure(reason: untrustedCertificate, notSent: true)
            }
            if text.contains("CERTIFICATE_REQUIRED") || text.contains("HANDSHAKE_FAILURE") {
                return TransportFailure(
                    reason: "the TLS handshake failed: the server may require a client certificate "
                        + "(give --cert FILE --key FILE, or set cert_file and key_file) (\(text))", notSent: true)
            }
            if text.contains("WRONG_VERSION_NUMBER") {
                return TransportFailure(
                    reason: "the TLS handshake failed: the server does not speak TLS on this port "
                        + "(is it http:// rather than https://?)", notSent: true)
            }
            return TransportFailure(reason: "the TLS handshake failed (\(text))", notSent: true)
        case .uncleanShutdown:
            return TransportFailure(reason: "the server closed the TLS connection uncleanly", notSent: false)
        default:
            return TransportFailure(reason: "TLS error (\(e))", notSent: true)
        }
    }
}
