import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// The sandbox over HTTPS, checked with curl as the independent client: trust, host names, expiry, mutual TLS,
/// and clear errors for bad files.
final class TLSTests: XCTestCase {
    /// A fresh PKI, removed after the test.
    func makePKI() throws -> TestPKI {
        let pki = try TestPKI.create()
        addTeardownBlock { pki.remove() }
        return pki
    }

    /// An HTTPS sandbox on a free port with this certificate, stopped after the test.
    func httpsSandbox(certificate: String, key: String) async throws -> SandboxServer {
        let server = try await Fixtures.sandbox { config in
            config.tls = SandboxTLS(certificateChainFile: certificate, privateKeyFile: key)
        }
        addTeardownBlock { await server.stop() }
        return server
    }

    func testCurlReachesTheHTTPSSandboxWhenItTrustsTheCA() async throws {
        let pki = try makePKI()
        let server = try await httpsSandbox(certificate: pki.serverCertificate, key: pki.serverKey)
        XCTAssertEqual(server.scheme, "https")
        XCTAssertEqual(server.origin, "https://127.0.0.1:\(server.port)")
        XCTAssertEqual(server.baseURL, "https://127.0.0.1:\(server.port)/api/v1/scim")

        let r = try Curl.get(
            server.baseURL + "/Users?count=2", token: admin, arguments: ["--cacert", pki.caCertificate])
        XCTAssertEqual(r.exitCode, 0, r.description)
        XCTAssertEqual(r.status, 200, r.description)
        let list = try JSONParser.parse(r.body)
        XCTAssertEqual(list["Resources"]?.arrayValue?.count, 2, r.body)
        XCTAssertEqual(server.requestLog().map(\.description), ["GET /api/v1/scim/Users?count=2 -> 200"])

        // `localhost` is in the certificate too, and locations say https.
        let viaLocalhost = try Curl.get(
            "https://localhost:\(server.port)/api/v1/scim/Users/2819c223-7f76-453a-919d-413861904646", token: admin,
            arguments: ["--cacert", pki.caCertificate])
        XCTAssertEqual(viaLocalhost.status, 200, viaLocalhost.description)
        XCTAssertEqual(
            try JSONParser.parse(viaLocalhost.body)["meta"]?["location"]?.stringValue,
            "https://localhost:\(server.port)/api/v1/scim/Users/2819c223-7f76-453a-919d-413861904646")

        // The token reached the sandbox (through curl's stdin): a wrong one is refused.
        let wrong = try Curl.get(server.baseURL + "/Users", token: "nope", arguments: ["--cacert", pki.caCertificate])
        XCTAssertEqual(wrong.status, 401, wrong.description)
    }

    func testCurlRefusesTheSandboxWithoutTheCAOrWithAnotherCA() async throws {
        let pki = try makePKI()
        let server = try await httpsSandbox(certificate: pki.serverCertificate, key: pki.serverKey)
        for arguments in [[], ["--cacert", pki.otherCACertificate]] {
            let r = try Curl.get(server.baseURL + "/Users", token: admin, arguments: arguments)
            XCTAssertEqual(r.exitCode, 60, "certificate verification must fail: \(arguments) \(r)")
            XCTAssertEqual(r.status, 0, r.description)
            XCTAssertTrue(r.stderr.contains("certificate"), r.stderr)
        }
        // Plain HTTP to the HTTPS port gets no SCIM answer.
        let plain = try Curl.get("http://127.0.0.1:\(server.port)/api/v1/scim/Users", token: admin)
        XCTAssertNotEqual(plain.status, 200, plain.description)
        XCTAssertTrue(server.requestLog().isEmpty, "\(server.requestLog())")
    }

    /// curl's answer from an HTTPS sandbox with this certificate, trusting the CA; it must fail verification.
    func verificationFailure(
        certificate: String, key: String, pki: TestPKI, file: StaticString = #filePath, line: UInt = #line
    ) async throws -> (SandboxServer, Curl.Result) {
        let server = try await httpsSandbox(certificate: certificate, key: key)
        let r = try Curl.get(server.baseURL + "/Users", token: admin, arguments: ["--cacert", pki.caCertificate])
        XCTAssertEqual(r.exitCode, 60, r.description, file: file, line: line)
        XCTAssertEqual(r.status, 0, r.description, file: file, line: line)
        return (server, r)
    }

    func testCertificateForAnotherHostFailsOnTheHostName() async throws {
        let pki = try makePKI()
        let (server, r) = try await verificationFailure(
            certificate: pki.wrongHostCertificate, key: pki.wrongHostKey, pki: pki)
        XCTAssertTrue(r.stderr.contains("127.0.0.1"), r.stderr)
        XCTAssertTrue(r.stderr.contains("name"), "a host name mismatch, not another failure: \(r.stderr)")
        // The same certificate verifies under its own name: only the host name was wrong.
        let named = try Curl.get(
            "https://\(TestPKI.wrongHostName):\(server.port)/api/v1/scim/Users", token: admin,
            arguments: [
                "--cacert", pki.caCertificate, "--resolve", "\(TestPKI.wrongHostName):\(server.port):127.0.0.1",
            ])
        XCTAssertEqual(named.status, 200, named.description)
    }

    func testExpiredCertificateIsRefused() async throws {
        let pki = try makePKI()
        let (_, r) = try await verificationFailure(certificate: pki.expiredCertificate, key: pki.expiredKey, pki: pki)
        XCTAssertTrue(r.stderr.contains("expired"), r.stderr)
    }

    func testClientCAMakesAClientCertificateRequired() async throws {
        let pki = try makePKI()
        let server = try await Fixtures.sandbox { $0.tls = pki.sandboxTLS(requiringClientCertificates: true) }
        addTeardownBlock { await server.stop() }
        let url = server.baseURL + "/Users?count=1"
        let trust = ["--cacert", pki.caCertificate]

        let without = try Curl.get(url, token: admin, arguments: trust)
        XCTAssertNotEqual(without.exitCode, 0, without.description)
        XCTAssertEqual(without.status, 0, without.description)

        let foreign = try Curl.get(
            url, token: admin, arguments: trust + ["--cert", pki.otherClientCertificate, "--key", pki.otherClientKey])
        XCTAssertNotEqual(foreign.exitCode, 0, "a client certificate from another CA: \(foreign)")
        XCTAssertEqual(foreign.status, 0, foreign.description)
        XCTAssertTrue(server.requestLog().isEmpty, "no request got through: \(server.requestLog())")

        let with = try Curl.get(
            url, token: admin, arguments: trust + ["--cert", pki.clientCertificate, "--key", pki.clientKey])
        XCTAssertEqual(with.exitCode, 0, with.description)
        XCTAssertEqual(with.status, 200, with.description)
        XCTAssertEqual(server.requestLog().count, 1)
    }

    func testBadTLSFilesFailToStartWithAMessageNamingTheFile() async throws {
        let pki = try makePKI()
        let directory = pki.directory
        let garbage = directory + "/garbage.pem"
        try "not a certificate\n".write(toFile: garbage, atomically: false, encoding: .utf8)
        let brokenPEM = directory + "/broken.pem"
        try "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".write(
            toFile: brokenPEM, atomically: false, encoding: .utf8)
        let encryptedKey = directory + "/encrypted.key"
        let encrypt = try Fixtures.run(
            try XCTUnwrap(TestPKI.openssl),
            ["pkey", "-in", pki.serverKey, "-aes256", "-passout", "pass:secret", "-out", encryptedKey])
        XCTAssertEqual(encrypt.status, 0, encrypt.stderr)
        let missing = directory + "/missing.pem"

        let cases: [(SandboxTLS, [String])] = [
            (SandboxTLS(certificateChainFile: missing, privateKeyFile: pki.serverKey), [missing, "no such file"]),
            (
                SandboxTLS(certificateChainFile: pki.serverCertificate, privateKeyFile: missing),
                [missing, "no such file"]
            ),
            (SandboxTLS(certificateChainFile: directory, privateKeyFile: pki.serverKey), [directory, "directory"]),
            (SandboxTLS(certificateChainFile: garbage, privateKeyFile: pki.serverKey), [garbage, "no certificate"]),
            (SandboxTLS(certificateChainFile: brokenPEM, privateKeyFile: pki.serverKey), [brokenPEM, "not a valid"]),
            (
                SandboxTLS(certificateChainFile: pki.serverCertificate, privateKeyFile: garbage),
                [garbage, "private key"]
            ),
            (
                SandboxTLS(certificateChainFile: pki.serverCertificate, privateKeyFile: encryptedKey),
                [encryptedKey, "encrypted"]
            ),
            (
                SandboxTLS(certificateChainFile: pki.serverCertificate, privateKeyFile: pki.clientKey),
                [pki.serverCertificate, pki.clientKey, "cannot be used together"]
            ),
            (
                SandboxTLS(
                    certificateChainFile: pki.serverCertificate, privateKeyFile: pki.serverKey, clientCAFile: missing),
                [missing, "client CA"]
            ),
        ]
        for (tls, expected) in cases {
            do {
                let server = try await SandboxServer.start(SandboxConfiguration(tls: tls))
                await server.stop()
                XCTFail("started with \(tls)")
            } catch let error as SandboxStartError {
                for part in expected {
                    XCTAssertTrue(error.message.contains(part), "\(part) not in: \(error.message)")
                }
            }
        }
    }
}
