import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import Synchronization
import XCTest

@testable import SCIMClient

#if canImport(Glibc)
    import Glibc
#endif

/// The default transport, against the sandbox and, for answers the sandbox never gives (chunked bodies, a
/// closed connection, broken HTTP), against a bare TCP server.
final class NIOTransportTests: XCTestCase {
    /// The transport reuses the last URL's scheme and authority: every URL must still come apart as on its own.
    func testURLsTakenApartWithTheLastOriginMatchTakingThemApartAlone() throws {
        let last = Mutex<Target.Origin?>(nil)
        let urls = [
            "http://127.0.0.1:8080/api/v1/scim/Users/a", "http://127.0.0.1:8080/api/v1/scim/Users/b?x=1",
            "http://127.0.0.1:80/Users", "http://127.0.0.1:8/Users", "https://127.0.0.1:8080/Users",
            "http://127.0.0.1:8080/Users#frag", "http://127.0.0.1:8080", "http://127.0.0.1:8080?q=1",
            "http://admin@127.0.0.1:8080/Users", "http://127.0.0.1:8080/Users/c", "http://[::1]:9000/a",
            "http://[::1]:9000/b", "http://other:8080/Users", "http://127.0.0.1:8080/Users/d",
        ]
        for url in urls + urls.reversed() {
            let reused = try Target.parse(url, reusing: last)
            let alone = try Target(url: url)
            XCTAssertEqual(reused.endpoint, alone.endpoint, url)
            XCTAssertEqual(reused.authority, alone.authority, url)
            XCTAssertEqual(reused.pathAndQuery, alone.pathAndQuery, url)
        }
        XCTAssertEqual(last.withLock { $0?.endpoint.host }, "127.0.0.1", "an origin is remembered")
        XCTAssertThrowsError(try Target.parse("ftp://127.0.0.1:8080/Users", reusing: last))
    }

    func testTakesRequestURLsApart() throws {
        let t = try Target(url: "http://127.0.0.1:8080/api/v1/scim/Users?startIndex=1&count=2")
        XCTAssertEqual(t.endpoint, Endpoint(tls: false, host: "127.0.0.1", port: 8080))
        XCTAssertEqual(t.authority, "127.0.0.1:8080")
        XCTAssertEqual(t.pathAndQuery, "/api/v1/scim/Users?startIndex=1&count=2")

        let s = try Target(url: "https://odm.example.org")
        XCTAssertEqual(s.endpoint, Endpoint(tls: true, host: "odm.example.org", port: 443))
        XCTAssertEqual(s.pathAndQuery, "/")

        let v6 = try Target(url: "http://[::1]:9000?x=1#frag")
        XCTAssertEqual(v6.endpoint, Endpoint(tls: false, host: "::1", port: 9000))
        XCTAssertEqual(v6.authority, "[::1]:9000")
        XCTAssertEqual(v6.pathAndQuery, "/?x=1")

        let user = try Target(url: "http://admin@host/a")
        XCTAssertEqual(user.authority, "host")
        XCTAssertEqual(user.endpoint.port, 80)

        for bad in ["ftp://host/", "http://:80/", "http://host:99999/", "http://host:x/", "http://[::1/"] {
            XCTAssertThrowsError(try Target(url: bad), bad) { error in
                let f = error as? TransportFailure
                XCTAssertEqual(f?.notSent, true, bad)
                XCTAssertTrue(f?.reason.hasPrefix("invalid URL '\(bad)'") ?? false, "\(error)")
            }
        }
        XCTAssertTrue(Target.isIPAddress("10.0.0.1"))
        XCTAssertTrue(Target.isIPAddress("::1"))
        XCTAssertFalse(Target.isIPAddress("odm.example.org"))
    }

    func testSequentialRequestsReuseOneConnection() async throws {
        try await withTransportSandbox { server, transport, base in
            for _ in 0..<5 {
                let r = try await transport.send(get(base + "/Users/\(Seed.bjensen)"), timeout: .seconds(5))
                XCTAssertEqual(r.status, 200)
                XCTAssertEqual(r.header("content-type"), "application/scim+json")
                let user = try JSONParser.parse(r.body)
                XCTAssertEqual(user["userName"]?.stringValue, "bjensen")
            }
            XCTAssertEqual(transport.pool.state.withLock { $0.open.count }, 1)
        }
    }

    func testConcurrentRequestsEachGetAConnection() async throws {
        try await withTransportSandbox { server, transport, base in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await transport.send(get(base + "/Users"), timeout: .seconds(5)).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            XCTAssertEqual(statuses, Array(repeating: 200, count: 8))
            let open = transport.pool.state.withLock { $0.open.count }
            XCTAssertGreaterThanOrEqual(open, 1)
            XCTAssertLessThanOrEqual(open, 8)
        }
    }

    func testSendsTheBodyWithItsLength() async throws {
        try await withTransportSandbox { server, transport, base in
            let body = Array(
                #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Through NIO"}]}"#
                    .utf8)
            var r = get(base + "/Users/\(Seed.alice)")
            r.method = "PATCH"
            r.headers.append(("Content-Type", "application/scim+json"))
            r.body = body
            let response = try await transport.send(r, timeout: .seconds(5))
            XCTAssertEqual(response.status, 200, String(decoding: response.body, as: UTF8.self))
            XCTAssertEqual(server.sandbox.user(id: Seed.alice)?["displayName"]?.stringValue, "Through NIO")
        }
    }

    func testTimeoutFailsTheRequestAndDropsTheConnection() async throws {
        try await withTransportSandbox(latency: .milliseconds(400)) { server, transport, base in
            try await expectTimeout(transport, base, after: .milliseconds(80), within: .milliseconds(390))
        }
    }

    /// A connection keeps one timer: a request with a shorter timeout after one with a longer one on the same
    /// connection still times out on time, and a timer armed for an earlier request never fails a later one.
    func testEachRequestKeepsItsOwnTimeoutOnAReusedConnection() async throws {
        try await withTransportSandbox(latency: .milliseconds(250)) { server, transport, base in
            let first = try await transport.send(get(base + "/Users"), timeout: .seconds(5))
            XCTAssertEqual(first.status, 200)
            // The shorter timeout counts.
            try await expectTimeout(transport, base, after: .milliseconds(60), within: .milliseconds(240))
            // The timer armed for the first request (400 ms) fires while the second one runs (250–500 ms): it
            // re-arms for the second's deadline instead of failing it.
            for timeout in [Duration.milliseconds(400), .seconds(5)] {
                let r = try await transport.send(get(base + "/Users"), timeout: timeout)
                XCTAssertEqual(r.status, 200)
            }
            XCTAssertEqual(transport.pool.state.withLock { $0.open.count }, 1, "both on one connection")
        }
    }

    func testHTTPSToAPlainHTTPServerFailsInTheHandshake() async throws {
        try await withTransportSandbox { server, transport, _ in
            let f = try await transportFailure("expected a TLS failure") {
                try await transport.send(get("https://127.0.0.1:\(server.port)/"), timeout: .seconds(5))
            }
            XCTAssertTrue(f.reason.hasPrefix("TLS handshake failed"), f.reason)
            XCTAssertTrue(f.notSent, "nothing passes a failed handshake")
        }
    }

    /// A server that closes the connection before the TLS handshake is done never got the request: however
    /// it shows (a close, a reset or a handshake error, before or after the request reached the connection's
    /// handler), the failure is "not sent" and never a hang.
    func testConnectionClosedDuringTheHandshakeIsNotSent() async throws {
        let server = try RawServer(closeOnAccept: true) { _ in "" }
        defer { server.stop() }
        let transport = NIOHTTPTransport()
        for _ in 0..<5 {
            let f = try await transportFailure {
                try await transport.send(get("https://127.0.0.1:\(server.port)/"), timeout: .seconds(5))
            }
            // Depending on timing the close or reset reaches the handler during the handshake, or the
            // connection is gone before the request reached the handler at all.
            XCTAssertTrue(
                f.reason.hasPrefix("TLS handshake failed") || f.reason == "the server closed the connection", f.reason)
            XCTAssertTrue(f.notSent, f.reason)
        }
        await transport.shutdown()
    }

    func testHeaderWithALineBreakIsNeverSent() async throws {
        try await withTransportSandbox { server, transport, base in
            server.clearLog()
            var r = get(base + "/Users")
            r.headers.append(("X-Note", "a\r\nX-Injected: yes"))
            let f = try await transportFailure("expected a refusal") {
                try await transport.send(r, timeout: .seconds(5))
            }
            XCTAssertEqual(f.reason, "header 'X-Note' contains a line break")
            XCTAssertTrue(f.notSent)
            XCTAssertEqual(server.requestLog().count, 0)
        }
    }

    func testBodyOverTheLimitIsRefused() async throws {
        try await withTransportSandbox(maxBodyBytes: 300) { server, transport, base in
            let f = try await transportFailure("expected a refusal") {
                try await transport.send(get(base + "/Users"), timeout: .seconds(5))
            }
            XCTAssertEqual(f.reason, "the answer is larger than 300 bytes")
            let small = try await transport.send(get(base + "/Users/nobody"), timeout: .seconds(5))
            XCTAssertEqual(small.status, 404)
        }
    }

    func testRefusedConnectionIsNotSent() async throws {
        let transport = NIOHTTPTransport()
        let port = try RawServer.unusedPort()
        let f = try await transportFailure("expected a refusal") {
            try await transport.send(get("http://127.0.0.1:\(port)/"), timeout: .seconds(5))
        }
        XCTAssertEqual(f.reason, "connection refused")
        XCTAssertTrue(f.notSent)
        await transport.shutdown()
    }

    func testAfterShutdownNothingIsSent() async throws {
        let transport = NIOHTTPTransport()
        await transport.shutdown()
        let f = try await transportFailure {
            try await transport.send(get("http://127.0.0.1:9/"), timeout: .seconds(5))
        }
        XCTAssertEqual(f.reason, "the client was shut down")
        XCTAssertTrue(f.notSent)
    }

    // MARK: - Answers only a bare server gives

    func testChunkedBodyIsGathered() async throws {
        let server = try RawServer { _ in
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "7\r\n{\"a\":1,\r\n6\r\n\"b\":2}\r\n0\r\n\r\n"
        }
        defer { server.stop() }
        let transport = NIOHTTPTransport()
        let r = try await transport.send(get("http://127.0.0.1:\(server.port)/x"), timeout: .seconds(5))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), #"{"a":1,"b":2}"#)
        XCTAssertTrue(server.requests.first?.hasPrefix("GET /x HTTP/1.1\r\n") ?? false, "\(server.requests)")
        XCTAssertTrue(server.requests.first?.contains("\r\nHost: 127.0.0.1:\(server.port)\r\n") ?? false)
        await transport.shutdown()
    }

    /// The transport's own HTTP/1.1 reading, end to end: an interim answer is skipped and chunked framing tells
    /// where an answer ends, so the connection carries the next request; bytes after an answer put it out of
    /// step, so it is closed and the next request opens another.
    func testChunkedAnswersKeepTheConnectionAndStrayBytesEndIt() async throws {
        let server = try RawServer { head in
            head.hasPrefix("GET /stray ")
                ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokSURPLUS"
                : "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        }
        defer { server.stop() }
        let transport = NIOHTTPTransport()
        for path in ["/a", "/b", "/stray", "/c"] {
            let r = try await transport.send(get("http://127.0.0.1:\(server.port)\(path)"), timeout: .seconds(5))
            XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "ok", path)
        }
        XCTAssertEqual(server.requests.count, 4)
        XCTAssertEqual(server.acceptedConnections, 2, "one connection up to the stray bytes, a new one after")
        await transport.shutdown()
    }

    func testBodyEndingAtCloseIsReadAndTheConnectionNotReused() async throws {
        let server = try RawServer(closeAfterAnswer: true) { _ in
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"
        }
        defer { server.stop() }
        let transport = NIOHTTPTransport()
        for _ in 0..<2 {
            let r = try await transport.send(get("http://127.0.0.1:\(server.port)/"), timeout: .seconds(5))
            XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "until the end")
        }
        XCTAssertEqual(server.acceptedConnections, 2, "a Connection: close answer ends the connection")
        await transport.shutdown()
    }

    func testServerClosingWithoutAnAnswerMayHaveReceivedTheRequest() async throws {
        let f = try await failure(answering: "")
        XCTAssertEqual(f?.reason, "the server closed the connection")
        XCTAssertEqual(f?.notSent, false, "the request had been written")
    }

    func testGarbageInsteadOfHTTPIsReported() async throws {
        let f = try await failure(answering: "SSH-2.0-OpenSSH_9.2\r\n")
        XCTAssertTrue(f?.reason.hasPrefix("the server's answer is not valid HTTP") ?? false, "\(String(describing: f))")
    }

    /// The failure of one GET to a bare server that answers `text` and closes.
    func failure(answering text: String) async throws -> TransportFailure? {
        let server = try RawServer(closeAfterAnswer: true) { _ in text }
        defer { server.stop() }
        let transport = NIOHTTPTransport()
        defer { Task { await transport.shutdown() } }
        return try await transportFailure {
            try await transport.send(get("http://127.0.0.1:\(server.port)/"), timeout: .seconds(5))
        }
    }

    /// Thrown when a send that had to fail did not (after the test failure is recorded).
    struct NoFailure: Error {}

    /// The `TransportFailure` a send that must fail ends with; other errors are rethrown.
    func transportFailure(
        _ expectation: String = "expected a failure", line: UInt = #line,
        _ send: () async throws -> HTTPResponseData
    ) async throws -> TransportFailure {
        do {
            _ = try await send()
        } catch let f as TransportFailure {
            return f
        }
        XCTFail(expectation, line: line)
        throw NoFailure()
    }

    /// The alternative transport stays usable: the same operations through AsyncHTTPClient.
    func testAsyncHTTPClientTransportStillWorks() async throws {
        let server = try await Fixtures.sandbox()
        let transport = AsyncHTTPTransport()
        let client = SCIMClient(
            configuration: SCIMConfiguration(
                host: "http://127.0.0.1:\(server.port)", basePath: server.sandbox.configuration.basePath,
                auth: .bearer(server.sandbox.configuration.adminToken)),
            transport: transport)
        do {
            let user = try await client.getUser(id: Seed.bjensen)
            XCTAssertEqual(user.userName, "bjensen")
            let patched = try await client.patchUser(
                id: Seed.bjensen, operations: [.init(op: .replace, path: "displayName", value: "Via AHC")])
            XCTAssertEqual(patched.displayName, "Via AHC")
            do {
                _ = try await client.getUser(id: "missing")
                XCTFail("expected 404")
            } catch {
                XCTAssertEqual(error.status, 404)
            }
        } catch {
            XCTFail("\(error)")
        }
        await transport.shutdown()
        await server.stop()
    }

    // MARK: - Helpers

    func withTransportSandbox(
        latency: Duration = .zero, maxBodyBytes: Int = 1 << 20, maxConnectionsPerHost: Int? = nil,
        _ body: (SandboxServer, NIOHTTPTransport, String) async throws -> Void
    ) async throws {
        let server = try await Fixtures.sandbox { $0.latency = latency }
        let transport = NIOHTTPTransport(maxBodyBytes: maxBodyBytes, maxConnectionsPerHost: maxConnectionsPerHost)
        let base = "http://127.0.0.1:\(server.port)" + server.sandbox.configuration.basePath
        do {
            try await body(server, transport, base)
        } catch {
            await transport.shutdown()
            await server.stop()
            throw error
        }
        await transport.shutdown()
        await server.stop()
    }

    /// A GET with this timeout to a slower server fails as timed out (sent: it may have been processed) well
    /// before the server answers, and its connection is dropped.
    func expectTimeout(
        _ transport: NIOHTTPTransport, _ base: String, after timeout: Duration, within limit: Duration,
        line: UInt = #line
    ) async throws {
        let start = ContinuousClock.now
        let f = try await transportFailure("expected a timeout", line: line) {
            try await transport.send(get(base + "/Users"), timeout: timeout)
        }
        XCTAssertEqual(f.reason, "timed out waiting for the server", line: line)
        XCTAssertFalse(f.notSent, "the request was sent: it may have been processed", line: line)
        XCTAssertLessThan(ContinuousClock.now - start, limit, line: line)
        try await waitUntil { transport.pool.state.withLock { $0.open.isEmpty } }
    }

    func waitUntil(_ condition: () -> Bool, file: StaticString = #filePath, line: UInt = #line) async throws {
        for _ in 0..<200 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("condition not met within 2 s", file: file, line: line)
    }
}

/// A GET with the sandbox's default admin token.
func get(_ url: String) -> HTTPRequestData {
    HTTPRequestData(
        method: "GET", url: url,
        headers: [("Authorization", "Bearer " + SandboxConfiguration.defaultAdminToken), ("Accept", "*/*")],
        body: nil)
}

/// A bare TCP server on 127.0.0.1 that reads one request head per answer and writes back fixed text: for
/// answers no HTTP framework would produce.
final class RawServer: Sendable {
    let port: Int
    let listener: Int32
    let closeAfterAnswer: Bool
    /// Close each connection as soon as it is accepted, reading nothing.
    let closeOnAccept: Bool
    let answer: @Sendable (String) -> String
    let state = Mutex<(requests: [String], accepted: Int, stopped: Bool)>(([], 0, false))

    var requests: [String] { state.withLock { $0.requests } }
    var acceptedConnections: Int { state.withLock { $0.accepted } }

    init(
        closeAfterAnswer: Bool = false, closeOnAccept: Bool = false, answer: @escaping @Sendable (String) -> String
    ) throws {
        self.closeAfterAnswer = closeAfterAnswer
        self.closeOnAccept = closeOnAccept
        self.answer = answer
        let (fd, port) = try RawServer.listen()
        self.listener = fd
        self.port = port
        let thread = Thread { [self] in self.acceptLoop() }
        thread.start()
    }

    /// A loopback port nothing listens on (bound, then closed).
    static func unusedPort() throws -> Int {
        let (fd, port) = try listen()
        close(fd)
        return port
    }

    static func listen() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && Glibc.listen(fd, 16) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    func acceptLoop() {
        while true {
            let conn = accept(listener, nil, nil)
            if conn < 0 { return }
            if state.withLock({ $0.stopped }) {
                close(conn)
                return
            }
            state.withLock { $0.accepted += 1 }
            if closeOnAccept {
                close(conn)
                continue
            }
            serve(conn)
        }
    }

    func serve(_ conn: Int32) {
        defer { close(conn) }
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(conn, &chunk, chunk.count)
            if n <= 0 { return }
            pending.append(contentsOf: chunk[0..<n])
            while let end = RawServer.headEnd(pending) {
                let head = String(decoding: pending[0..<end], as: UTF8.self)
                pending.removeFirst(end)
                state.withLock { $0.requests.append(head) }
                let text = Array(answer(head).utf8)
                if !text.isEmpty { _ = text.withUnsafeBytes { write(conn, $0.baseAddress, $0.count) } }
                if closeAfterAnswer { return }
            }
        }
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    func stop() {
        state.withLock { $0.stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}
