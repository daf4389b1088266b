import Foundation
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// The sandbox behind a real proxy (tinyproxy), reached by curl: plain HTTP forwarded, HTTPS tunnelled with
/// CONNECT, and proxy authentication.
final class ProxyTests: XCTestCase {
    func startProxy(basicAuth: (user: String, password: String)? = nil) async throws -> Tinyproxy {
        let proxy = try await Tinyproxy.start(basicAuth: basicAuth)
        addTeardownBlock { proxy.stop() }
        return proxy
    }

    func startSandbox(tls pki: TestPKI? = nil) async throws -> SandboxServer {
        let server = try await Fixtures.sandbox { config in
            config.tls = pki?.sandboxTLS()
        }
        addTeardownBlock { await server.stop() }
        return server
    }

    func testPlainHTTPGoesThroughTheProxy() async throws {
        let proxy = try await startProxy()
        let server = try await startSandbox()
        XCTAssertEqual(proxy.requestLines(), [], proxy.log())

        let r = try Curl.get(server.baseURL + "/Users?count=1", token: admin, proxy: proxy.url)
        XCTAssertEqual(r.status, 200, r.description)
        XCTAssertEqual(proxy.requestLines(), ["GET \(server.baseURL)/Users?count=1 HTTP/1.1"], proxy.log())
        XCTAssertEqual(server.requestLog().map(\.description), ["GET /api/v1/scim/Users?count=1 -> 200"])
    }

    func testHTTPSIsTunnelledWithConnect() async throws {
        let pki = try TestPKI.create()
        addTeardownBlock { pki.remove() }
        let proxy = try await startProxy()
        let server = try await startSandbox(tls: pki)

        let r = try Curl.get(
            server.baseURL + "/Users?count=1", token: admin, proxy: proxy.url,
            arguments: ["--cacert", pki.caCertificate])
        XCTAssertEqual(r.status, 200, r.description)
        // The proxy saw only the tunnel's end point, not the request inside it.
        XCTAssertEqual(proxy.requestLines(), ["CONNECT 127.0.0.1:\(server.port) HTTP/1.1"], proxy.log())
        XCTAssertEqual(server.requestLog().count, 1)
    }

    func testBasicAuthProxyAnswers407WithoutCredentials() async throws {
        let proxy = try await startProxy(basicAuth: (user: "proxyuser", password: "proxy-pass"))
        let server = try await startSandbox()
        let url = server.baseURL + "/Users?count=1"

        let anonymous = try Curl.get(url, token: admin, proxy: proxy.url)
        XCTAssertEqual(anonymous.status, 407, anonymous.description)
        // tinyproxy 1.11 answers wrong credentials with 401 Unauthorized and its own HTML page, not 407: a client
        // must not take every 401 for an expired token of the server's.
        let wrong = try Curl.get(url, token: admin, proxy: proxy.url, arguments: ["--proxy-user", "proxyuser:nope"])
        XCTAssertEqual(wrong.status, 401, wrong.description)
        XCTAssertTrue(wrong.body.lowercased().contains("tinyproxy"), wrong.description)
        let tunnel = try Curl.get(
            "https://127.0.0.1:\(server.port)/", token: admin, proxy: proxy.url, arguments: ["--insecure"])
        XCTAssertEqual(tunnel.exitCode, 56, "CONNECT refused with 407: \(tunnel)")
        XCTAssertTrue(tunnel.stderr.contains("407"), tunnel.stderr)
        XCTAssertTrue(server.requestLog().isEmpty, "nothing reached the sandbox: \(server.requestLog())")

        let authorised = try Curl.get(
            url, token: admin, proxy: proxy.url, arguments: ["--proxy-user", "proxyuser:proxy-pass"])
        XCTAssertEqual(authorised.status, 200, authorised.description)
        XCTAssertEqual(server.requestLog().count, 1)
    }

    func testEachProxyHasItsOwnPortAndStops() async throws {
        let first = try await startProxy()
        let second = try await startProxy()
        XCTAssertNotEqual(first.port, second.port)
        XCTAssertNotEqual(first.port, 8888, "never tinyproxy's fixed default port")
        XCTAssertTrue(LoopbackPort.accepts(first.port))
        first.stop()
        XCTAssertFalse(LoopbackPort.accepts(first.port), "stopped")
        XCTAssertFalse(FileManager.default.fileExists(atPath: first.directory), "its folder is removed")
        XCTAssertTrue(LoopbackPort.accepts(second.port))
    }
}
