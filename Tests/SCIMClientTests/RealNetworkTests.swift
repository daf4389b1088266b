import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

@testable import SCIMClient

/// The client against the real parts of a corporate network: the sandbox over HTTPS with a throwaway CA made by
/// openssl, and a real proxy (tinyproxy) started per test.
final class RealNetworkTests: XCTestCase {
    var pki: TestPKI!

    override func setUp() async throws {
        pki = try TestPKI.create()
    }

    override func tearDown() async throws {
        pki?.remove()
    }

    /// A sandbox serving HTTPS with `certificate`/`key` (the good server certificate by default).
    func httpsSandbox(
        certificate: String? = nil, key: String? = nil, clientCA: String? = nil
    ) async throws -> SandboxServer {
        let (cert, k) = (certificate ?? pki.serverCertificate, key ?? pki.serverKey)
        let server = try await Fixtures.sandbox { config in
            config.tls = SandboxTLS(certificateChainFile: cert, privateKeyFile: k, clientCAFile: clientCA)
        }
        addTeardownBlock { await server.stop() }
        return server
    }

    func plainSandbox() async throws -> SandboxServer {
        let server = try await Fixtures.sandbox()
        addTeardownBlock { await server.stop() }
        return server
    }

    func proxy(basicAuth: (user: String, password: String)? = nil) async throws -> Tinyproxy {
        let p = try await Tinyproxy.start(basicAuth: basicAuth)
        addTeardownBlock { p.stop() }
        return p
    }

    /// A client for `server` at `host` (default: its own origin) with the given settings changed.
    func client(
        _ server: SandboxServer, host: String? = nil, _ change: (inout SCIMConfiguration) -> Void = { _ in }
    ) -> SCIMClient {
        var config = SCIMConfiguration(
            host: host ?? server.origin, basePath: server.sandbox.configuration.basePath,
            auth: .bearer(server.sandbox.configuration.adminToken), timeout: .seconds(10), retry: .none)
        change(&config)
        let c = SCIMClient(configuration: config)
        addTeardownBlock { await c.shutdown() }
        return c
    }

    /// The SCIMError `operation` fails with, or `nil` when it succeeds (or throws something else).
    func failure<T>(_ operation: () async throws -> T) async -> SCIMError? {
        do {
            _ = try await operation()
            return nil
        } catch {
            return error as? SCIMError
        }
    }

    // MARK: - TLS

    func testTrustedThroughTheCAFile() async throws {
        let server = try await httpsSandbox()
        XCTAssertTrue(server.origin.hasPrefix("https://"), server.origin)
        let c = client(server) { $0.tls.caFile = pki.caCertificate }
        let page = try await c.findUsers(count: 2)
        XCTAssertEqual(page.resources.count, 2)
        XCTAssertEqual(server.requestLog().count, 1)
    }

    func testSSLCertFileFromTheEnvironmentIsTrusted() async throws {
        let server = try await httpsSandbox()
        let c = client(server) { c in c = c.applyingEnvironment(["SSL_CERT_FILE": pki.caCertificate]) }
        let page = try await c.findUsers(count: 1)
        XCTAssertEqual(page.resources.count, 1)
    }

    func testAnUnknownCAIsRefusedWithWhatToDo() async throws {
        let server = try await httpsSandbox()
        let eResult = await failure { try await client(server).findUsers(count: 1) }
        let e = try XCTUnwrap(eResult, "expected a failure")
        XCTAssertTrue(e.isTransportError, e.description)
        XCTAssertTrue(e.detail.contains("certificate is not trusted"), e.detail)
        XCTAssertTrue(e.detail.contains("--cacert"), e.detail)
        XCTAssertTrue(server.requestLog().isEmpty, "nothing reached the server")

        // A CA file that holds another authority says so.
        let other = client(server) { $0.tls.caFile = pki.otherCACertificate }
        let e2Result = await failure { try await other.findUsers(count: 1) }
        let e2 = try XCTUnwrap(e2Result, "expected a failure")
        XCTAssertTrue(e2.detail.contains("the CA file '\(pki.otherCACertificate)' does not hold"), e2.detail)
    }

    func testAWrongHostNameIsRefused() async throws {
        let server = try await httpsSandbox(certificate: pki.wrongHostCertificate, key: pki.wrongHostKey)
        let c = client(server) { $0.tls.caFile = pki.caCertificate }
        let eResult = await failure { try await c.findUsers(count: 1) }
        let e = try XCTUnwrap(eResult, "expected a failure")
        XCTAssertTrue(e.detail.contains("not valid for this host name"), e.detail)
        XCTAssertTrue(server.requestLog().isEmpty)
    }

    func testAnExpiredCertificateIsNamedAsExpired() async throws {
        let server = try await httpsSandbox(certificate: pki.expiredCertificate, key: pki.expiredKey)
        let c = client(server) { $0.tls.caFile = pki.caCertificate }
        let eResult = await failure { try await c.findUsers(count: 1) }
        let e = try XCTUnwrap(eResult, "expected a failure")
        XCTAssertTrue(e.detail.contains("certificate expired on"), e.detail)
    }

    func testInsecureSkipsTheChecks() async throws {
        let server = try await httpsSandbox(certificate: pki.wrongHostCertificate, key: pki.wrongHostKey)
        let c = client(server) { $0.tls.insecure = true }
        let page = try await c.findUsers(count: 1)
        XCTAssertEqual(page.resources.count, 1)
    }

    func testMutualTLSRequiredAndGiven() async throws {
        let server = try await httpsSandbox(clientCA: pki.caCertificate)
        let without = client(server) { $0.tls.caFile = pki.caCertificate }
        let eResult = await failure { try await without.findUsers(count: 1) }
        let e = try XCTUnwrap(eResult, "expected a failure")
        XCTAssertTrue(e.isTransportError, e.description)
        XCTAssertTrue(server.requestLog().isEmpty, "\(server.requestLog())")

        let with = client(server) {
            $0.tls = TLSSettings(caFile: pki.caCertificate, certFile: pki.clientCertificate, keyFile: pki.clientKey)
        }
        let page = try await with.findUsers(count: 1)
        XCTAssertEqual(page.resources.count, 1)

        let stranger = client(server) {
            $0.tls = TLSSettings(
                caFile: pki.caCertificate, certFile: pki.otherClientCertificate, keyFile: pki.otherClientKey)
        }
        let strangerResult = await failure { try await stranger.findUsers(count: 1) }
        XCTAssertNotNil(strangerResult)
    }

    // MARK: - Proxies

    func testPlainHTTPThroughTheProxy() async throws {
        let p = try await proxy()
        let server = try await plainSandbox()
        let c = client(server) { $0.proxy = p.url }
        _ = try await c.getUser(id: Seed.bjensen)
        let lines = p.requestLines()
        XCTAssertEqual(lines.count, 1, p.log())
        XCTAssertTrue(lines.first?.contains("127.0.0.1:\(server.port)") ?? false, "\(lines)")
        XCTAssertEqual(server.requestLog().count, 1)
    }

    func testHTTPSThroughTheProxyWithConnect() async throws {
        let p = try await proxy()
        let server = try await httpsSandbox()
        let c = client(server) {
            $0.proxy = p.url
            $0.tls.caFile = pki.caCertificate
        }
        _ = try await c.findUsers(count: 1)
        _ = try await c.getUser(id: Seed.bjensen)
        XCTAssertEqual(p.requestLines(), ["CONNECT 127.0.0.1:\(server.port) HTTP/1.1"], p.log())
        XCTAssertEqual(server.requestLog().count, 2, "two requests, one kept-alive tunnel")
    }

    func testNoProxyBypassesTheProxy() async throws {
        let p = try await proxy()
        let server = try await plainSandbox()
        let c = client(server) { c in
            c = c.applyingEnvironment(["HTTP_PROXY": p.url, "no_proxy": "localhost,127.0.0.0/8"])
        }
        XCTAssertEqual(c.configuration.proxy, p.url, "the proxy came from the environment")
        _ = try await c.findUsers(count: 1)
        XCTAssertEqual(p.requestLines(), [], "the request went directly: \(p.log())")
        XCTAssertEqual(server.requestLog().count, 1)
    }

    func testProxyCredentialsInTheURL() async throws {
        // tinyproxy takes only letters, digits, '-' and '.' in a password; '%2D' still tests the decoding.
        let p = try await proxy(basicAuth: (user: "corp", password: "pa-ss.w0rd"))
        let server = try await plainSandbox()

        let anonymous = client(server) { $0.proxy = p.url }
        let eResult = await failure { try await anonymous.findUsers(count: 1) }
        let e = try XCTUnwrap(eResult, "expected a failure")
        XCTAssertTrue(e.detail.contains("proxy") && e.detail.contains("credentials"), e.detail)
        XCTAssertTrue(server.requestLog().isEmpty)

        let authURL = "http://corp:pa%2Dss.w0rd@127.0.0.1:\(p.port)"
        let observer = RecordingObserver()
        var config = client(server).configuration
        config.proxy = authURL
        let authed = SCIMClient(configuration: config, observer: observer)
        addTeardownBlock { await authed.shutdown() }
        _ = try await authed.findUsers(count: 1)
        XCTAssertEqual(server.requestLog().count, 1)
        XCTAssertEqual(p.requestLines().count, 2, "the refused request and this one: \(p.log())")
        // What is shown of the proxy never has its password.
        let shown = observer.sent.compactMap(\.proxy)
        XCTAssertEqual(shown, ["http://corp:****@127.0.0.1:\(p.port)"])
        XCTAssertFalse("\(observer.sent)".contains("w0rd"))
    }
}

/// A server that compresses its answers whether asked or not (as some gateways do): the client decompresses.
final class CompressedAnswerTests: XCTestCase {
    /// Python's http.server on a free loopback port answering every GET with a gzip-encoded SCIM user.
    static let server = #"""
        import gzip, http.server, json, sys
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = gzip.compress(json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "id": "u-1", "userName": "zipped", "active": True}).encode())
                self.send_response(200)
                self.send_header("Content-Type", "application/scim+json")
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *a): pass
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """#

    func testAGzipAnswerIsDecompressed() async throws {
        let python = try XCTUnwrap(ChildProcess.executable(named: "python3"), "python3 is part of the toolchain image")
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/gzip_server.py"
        try Self.server.write(toFile: script, atomically: true, encoding: .utf8)
        let process = try ChildProcess.start([python, script], in: dir, name: "gzip-server")
        defer { process.stop() }
        let port = try await process.waitForOutput(containing: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let client = SCIMClient(configuration: SCIMConfiguration(host: "http://127.0.0.1:\(port)", basePath: "/"))
        let user = try await client.getUser(id: "u-1")
        XCTAssertEqual(user.userName, "zipped")
        await client.shutdown()
    }
}

/// An expired token (the sandbox's token lifetime) is replaced by running the token command again, once for
/// all the requests that got the 401 together.
final class TokenRefreshTests: XCTestCase {
    func testAnExpiredTokenIsRefreshedOnceAndTheRequestsSucceed() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = try CountingTokenScript(in: dir)
        let server = try await Fixtures.sandbox { $0.tokenLifetime = 5 }
        var config = SCIMConfiguration(
            host: server.origin, auth: .bearer(SandboxConfiguration.defaultAdminToken), retry: .none)
        config.tokenCommand = script.path
        let client = SCIMClient(configuration: config)
        let notes = RequestNotes()
        // 5 requests on the first token, then 20 at once: all get 401 together, one refresh serves them all.
        for _ in 0..<5 { _ = try await client.findUsers(count: 1) }
        try await RequestNotes.$current.withValue(notes) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { _ = try await client.findUsers(count: 1) } }
                try await group.waitForAll()
            }
        }
        XCTAssertEqual(script.runs, 1, "one refresh for the requests that got 401 together")
        XCTAssertTrue(notes.tokenRefreshed)
        XCTAssertEqual(client.currentAuth, .bearer("scimsh-sandbox-admin.1"))
        XCTAssertFalse(client.currentAuth.description.contains("admin.1"), "the description masks it")
        await client.shutdown()
        await server.stop()
    }

    func testAFailingTokenCommandEndsInThe401WithTheReason() async throws {
        let server = try await Fixtures.sandbox { $0.tokenLifetime = 1 }
        var config = SCIMConfiguration(
            host: server.origin, auth: .bearer(SandboxConfiguration.defaultAdminToken), retry: .none)
        config.tokenCommand = "false"
        let client = SCIMClient(configuration: config)
        _ = try await client.findUsers(count: 1)
        do {
            _ = try await client.findUsers(count: 1)
            XCTFail("expected a 401")
        } catch {
            XCTAssertEqual(error.status, 401)
            XCTAssertTrue(error.detail.contains("running token_command for a fresh token failed"), error.detail)
        }
        await client.shutdown()
        await server.stop()
    }
}

/// A token command that cannot help (it fails, or gives the refused token back) runs once, not once per request.
final class UselessTokenCommandTests: XCTestCase {
    func testACommandThatGivesTheSameTokenRunsOnceForManyRequests() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let counter = dir + "/runs"
        let script = dir + "/same-token"
        try "#!/bin/sh\necho x >> '\(counter)'\necho wrong-token-123\n".write(
            toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o700)
        let server = try await Fixtures.sandbox()
        var config = SCIMConfiguration(host: server.origin, auth: .bearer("wrong-token-123"), retry: .none)
        config.tokenCommand = script
        let client = SCIMClient(configuration: config)
        var failures: [SCIMError] = []
        for _ in 0..<10 {
            do {
                _ = try await client.findUsers(count: 1)
            } catch {
                failures.append(error)
            }
        }
        await client.shutdown()
        await server.stop()
        XCTAssertEqual(failures.count, 10)
        XCTAssertTrue(failures.allSatisfy { $0.status == 401 })
        XCTAssertTrue(failures[0].detail.contains("the token is wrong rather than expired"), failures[0].detail)
        let runs = (try String(contentsOfFile: counter, encoding: .utf8)).split(separator: "\n").count
        XCTAssertEqual(runs, 1, "the command ran once, not once per request")
    }
}
