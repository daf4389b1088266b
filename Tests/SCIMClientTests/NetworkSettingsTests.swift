import Foundation
import SCIMCore
import SCIMTestSupport
import XCTest

@testable import SCIMClient

/// Proxy URLs, `NO_PROXY` rules, the environment and the plain-http refusal: pure settings, no network.
final class NetworkSettingsTests: XCTestCase {
    func testProxyURLs() throws {
        let plain = try ProxySettings(parsing: "http://proxy.corp:3128")
        XCTAssertEqual(plain.kind, .http)
        XCTAssertEqual(plain.host, "proxy.corp")
        XCTAssertEqual(plain.port, 3128)
        XCTAssertNil(plain.username)
        XCTAssertEqual(plain.description, "http://proxy.corp:3128")

        let noScheme = try ProxySettings(parsing: "proxy.corp")
        XCTAssertEqual(noScheme.kind, .http)
        XCTAssertEqual(noScheme.port, 1080, "curl's default proxy port")

        let withAuth = try ProxySettings(parsing: "http://alice:s%40cret%3A1@127.0.0.1:8888/")
        XCTAssertEqual(withAuth.username, "alice")
        XCTAssertEqual(withAuth.password, "s@cret:1")
        XCTAssertEqual(withAuth.description, "http://alice:****@127.0.0.1:8888")
        XCTAssertFalse(withAuth.description.contains("cret"))

        let v6 = try ProxySettings(parsing: "http://[::1]:3128")
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.description, "http://[::1]:3128")

        let socks = try ProxySettings(parsing: "socks5h://127.0.0.1:1080")
        XCTAssertEqual(socks.kind, .socks5)

        for bad in [
            "https://proxy:3128", "ftp://proxy", "http://proxy:99999", "http://proxy:x", "http://:3128",
            "http://proxy:3128/path", "http://[::1", "socks5://u:p@h:1",
        ] {
            XCTAssertThrowsError(try ProxySettings(parsing: bad), bad) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("invalid proxy URL"), text)
            }
        }
        // The password never reaches the message about a malformed URL.
        XCTAssertThrowsError(try ProxySettings(parsing: "http://bob:hunter2@proxy:port")) { error in
            XCTAssertFalse("\(error)".contains("hunter2"), "\(error)")
            XCTAssertTrue("\(error)".contains("bob:****@proxy"), "\(error)")
        }
    }

    func testNoProxyFollowsCurlsRules() {
        let rules = NoProxyRules("localhost, .corp.example ,internal.test:8443,10.0.0.0/8,fd00::/8, 192.168.1.7")
        XCTAssertTrue(rules.bypasses(host: "localhost", port: 80))
        XCTAssertTrue(rules.bypasses(host: "LOCALHOST", port: 80), "names are compared without case")
        XCTAssertTrue(rules.bypasses(host: "corp.example", port: 443), "a leading dot still matches the name itself")
        XCTAssertTrue(rules.bypasses(host: "odm.corp.example", port: 443))
        XCTAssertFalse(rules.bypasses(host: "notcorp.example", port: 443), "a suffix must start at a dot")
        XCTAssertTrue(rules.bypasses(host: "internal.test", port: 8443))
        XCTAssertFalse(rules.bypasses(host: "internal.test", port: 443), "an entry with a port matches that port only")
        XCTAssertTrue(rules.bypasses(host: "10.20.30.40", port: 443))
        XCTAssertFalse(rules.bypasses(host: "11.0.0.1", port: 443))
        XCTAssertTrue(rules.bypasses(host: "[fd12::1]", port: 443))
        XCTAssertFalse(rules.bypasses(host: "fe80::1", port: 443))
        XCTAssertTrue(rules.bypasses(host: "192.168.1.7", port: 443))
        XCTAssertFalse(rules.bypasses(host: "192.168.1.8", port: 443))
        XCTAssertFalse(rules.bypasses(host: "odm.example.com", port: 443))

        XCTAssertTrue(NoProxyRules("*").bypasses(host: "anything.example", port: 1))
        XCTAssertFalse(NoProxyRules(nil).bypasses(host: "localhost", port: 1))
        XCTAssertFalse(NoProxyRules("").bypasses(host: "localhost", port: 1))
    }

    func testTheEnvironmentFillsWhatTheConfigurationLeavesOpen() throws {
        let env = [
            "https_proxy": "http://lower:3128", "HTTPS_PROXY": "http://upper:3128", "HTTP_PROXY": "http://plain:3128",
            "NO_PROXY": "odm.internal", "SSL_CERT_FILE": "/etc/corp-ca.pem",
        ]
        let https = SCIMConfiguration(host: "https://odm.example.com").applyingEnvironment(env)
        XCTAssertEqual(https.proxy, "http://lower:3128", "lower case wins, as in curl")
        XCTAssertEqual(https.tls.caFile, "/etc/corp-ca.pem")
        XCTAssertEqual(try https.effectiveProxy()?.host, "lower")

        let http = SCIMConfiguration(host: "http://odm.example.com:8080").applyingEnvironment(env)
        XCTAssertEqual(http.proxy, "http://plain:3128", "an http host uses HTTP_PROXY")

        let bypassed = SCIMConfiguration(host: "https://api.odm.internal").applyingEnvironment(env)
        XCTAssertNil(try bypassed.effectiveProxy(), "NO_PROXY names the host")

        var explicit = SCIMConfiguration(host: "https://odm.example.com")
        explicit.proxy = "http://mine:1"
        explicit.tls.caFile = "/mine.pem"
        let kept = explicit.applyingEnvironment(env)
        XCTAssertEqual(kept.proxy, "http://mine:1", "settings win over the environment")
        XCTAssertEqual(kept.tls.caFile, "/mine.pem")

        let all = SCIMConfiguration(host: "https://x.example").applyingEnvironment(["ALL_PROXY": "http://all:9"])
        XCTAssertEqual(all.proxy, "http://all:9")
        let none = SCIMConfiguration(host: "https://x.example").applyingEnvironment(["HTTPS_PROXY": "  "])
        XCTAssertNil(none.proxy, "an empty variable counts as unset")
    }

    func testATokenIsNotSentOverPlainHTTPToAnotherMachine() async throws {
        let refused = SCIMConfiguration(host: "http://odm.example.com", auth: .bearer("tok-123456"))
        let refusal = try XCTUnwrap(refused.refusal)
        XCTAssertTrue(refusal.contains("plain http:// to odm.example.com"), refusal)
        XCTAssertTrue(refusal.contains("--allow-http"), refusal)
        XCTAssertFalse(refusal.contains("tok-123456"))

        // Nothing reaches the transport: the request is refused before it is sent.
        let sent = LockedCounter()
        let client = SCIMClient(
            configuration: refused,
            transport: StubTransport { _ in
                _ = sent.next()
                return HTTPResponseData(status: 200, headers: [], body: Array("{}".utf8))
            })
        do {
            _ = try await client.getUser(id: "u1")
            XCTFail("the request was sent")
        } catch {
            XCTAssertTrue(error.description.contains("refusing to send the token"), error.description)
        }
        XCTAssertEqual(sent.next(), 1, "no request reached the transport")

        var allowed = refused
        allowed.allowHTTP = true
        XCTAssertNil(allowed.refusal)
        XCTAssertNil(SCIMConfiguration(host: "https://odm.example.com", auth: .bearer("t-12345")).refusal)
        XCTAssertNil(SCIMConfiguration(host: "http://odm.example.com").refusal, "no token, nothing to protect")
        for loopback in ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:9", "http://127.5.5.5"] {
            XCTAssertNil(SCIMConfiguration(host: loopback, auth: .bearer("t-12345")).refusal, loopback)
        }
        XCTAssertNotNil(SCIMConfiguration(host: "http://10.1.2.3", auth: .apiToken("t-12345")).refusal)
    }

    func testOriginOfTheHost() throws {
        let o = try XCTUnwrap(SCIMConfiguration(host: "https://user@ODM.example.com:8443/x").origin)
        XCTAssertEqual(o.scheme, "https")
        XCTAssertEqual(o.host, "ODM.example.com")
        XCTAssertEqual(o.port, 8443)
        XCTAssertEqual(SCIMConfiguration(host: "http://h").origin?.port, 80)
        XCTAssertEqual(SCIMConfiguration(host: "https://[::1]").origin?.host, "[::1]")
        XCTAssertNil(SCIMConfiguration(host: "ftp://h").origin)
    }

    func testUnusableTLSFilesFailEveryRequestWithAClearMessage() async throws {
        let missing = AsyncHTTPTransport(settings: TransportSettings(tls: TLSSettings(caFile: "/nonexistent/ca.pem")))
        await assertFails(missing, containing: "cannot read the CA file '/nonexistent/ca.pem'")

        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let notPEM = dir + "/not-a-cert.pem"
        try "hello\n".write(toFile: notPEM, atomically: true, encoding: .utf8)
        await assertFails(
            AsyncHTTPTransport(settings: TransportSettings(tls: TLSSettings(caFile: notPEM))),
            containing: "holds no PEM certificate")
        await assertFails(
            AsyncHTTPTransport(settings: TransportSettings(tls: TLSSettings(caFile: dir))),
            containing: "is not a regular file")
        await assertFails(
            AsyncHTTPTransport(settings: TransportSettings(tls: TLSSettings(certFile: notPEM))),
            containing: "a client certificate needs its key")
        await assertFails(
            AsyncHTTPTransport(settings: TransportSettings(tls: TLSSettings(keyFile: notPEM))),
            containing: "a client key needs its certificate")
    }

    /// A CA file (often `SSL_CERT_FILE`, the whole system bundle) is handed to NIOSSL by path, to be read when the
    /// first TLS connection is made, not parsed when the transport is made: a plain-http session never needs it,
    /// and parsing ~140 certificates was a third of `scimsh -c 'get ID'` (docs/performance.md).
    func testACAFileIsReadOnlyWhenATLSConnectionNeedsIt() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let marker = "-----BEGIN CERTIFICATE-----"
        // Not a certificate NIOSSL could parse: only the marker is checked here (parsing it would throw "holds no
        // PEM certificate").
        let ca = dir + "/ca.pem"
        try "\(marker)\nnot base64\n-----END CERTIFICATE-----\n".write(toFile: ca, atomically: true, encoding: .utf8)
        XCTAssertNoThrow(try AsyncHTTPTransport.tlsConfiguration(TLSSettings(caFile: ca)))

        // The marker is found wherever it is, across the 64 KiB reads too.
        for offset in [0, 65_536 - 10, 65_536, 200_000] {
            let path = dir + "/bundle-\(offset).pem"
            try (String(repeating: "x", count: offset) + marker + "\n").write(
                toFile: path, atomically: true, encoding: .utf8)
            XCTAssertTrue(AsyncHTTPTransport.fileContains(path, Array(marker.utf8)), "marker at \(offset)")
        }
        let none = dir + "/none.pem"
        try (String(repeating: "-----BEGIN CERTIFICAT", count: 5000) + "\n").write(
            toFile: none, atomically: true, encoding: .utf8)
        XCTAssertFalse(AsyncHTTPTransport.fileContains(none, Array(marker.utf8)))
        XCTAssertThrowsError(try AsyncHTTPTransport.tlsConfiguration(TLSSettings(caFile: none)))
    }

    func assertFails(_ transport: AsyncHTTPTransport, containing text: String, line: UInt = #line) async {
        do {
            _ = try await transport.send(
                HTTPRequestData(method: "GET", url: "https://127.0.0.1:1/", headers: [], body: nil),
                timeout: .seconds(5))
            XCTFail("the request was sent", line: line)
        } catch let f as TransportFailure {
            XCTAssertTrue(f.reason.contains(text), f.reason, line: line)
            XCTAssertTrue(f.notSent, line: line)
        } catch {
            XCTFail("\(error)", line: line)
        }
        await transport.shutdown()
    }
}
