import Foundation
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// `scimsh sandbox` with `--tls-cert`/`--tls-key`/`--tls-client-ca` and `--token-lifetime`, as the built binary.
final class SandboxTLSCLITests: XCTestCase {
    let admin = SandboxConfiguration.defaultAdminToken

    func makePKI() throws -> TestPKI {
        let pki = try TestPKI.create()
        addTeardownBlock { pki.remove() }
        return pki
    }

    /// Starts `scimsh sandbox ARGS` and returns it with the base URL from its banner.
    func startSandbox(_ arguments: [String], in directory: String) async throws -> (ChildProcess, String) {
        try E2E.requireBinary(Fixtures.scimshPath)
        let process = try ChildProcess.start(
            [Fixtures.scimshPath, "sandbox", "--port", "0"] + arguments, in: directory)
        addTeardownBlock { process.stop() }
        let banner = try await process.waitForOutput(containing: "Stop with Ctrl-C.\n")
        let prefix = "scimsh sandbox: serving the ODM SCIM Users API at "
        guard let first = banner.split(separator: "\n").first, first.hasPrefix(prefix) else {
            throw ChildProcessError("unexpected banner:\n\(banner)")
        }
        return (process, String(first.dropFirst(prefix.count)))
    }

    func testServesHTTPSAndRequiresClientCertificates() async throws {
        let pki = try makePKI()
        let (process, baseURL) = try await startSandbox(
            [
                "--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey, "--tls-client-ca", pki.caCertificate,
                "--token-lifetime", "2",
            ], in: pki.directory)
        XCTAssertTrue(baseURL.hasPrefix("https://127.0.0.1:"), baseURL)
        XCTAssertFalse(baseURL.hasPrefix("https://127.0.0.1:0/"), baseURL)
        let banner = process.stdout()
        XCTAssertTrue(banner.contains("client certs:   required, signed by \(pki.caCertificate)"), banner)
        XCTAssertTrue(banner.contains("token lifetime: 2 requests"), banner)
        XCTAssertTrue(banner.contains("curl --cacert CA.pem -H"), banner)

        let url = baseURL + "/Users?count=1"
        let trust = ["--cacert", pki.caCertificate]
        let client = ["--cert", pki.clientCertificate, "--key", pki.clientKey]
        let noClientCertificate = try Curl.get(url, token: admin, arguments: trust)
        XCTAssertNotEqual(noClientCertificate.exitCode, 0, noClientCertificate.description)
        let untrusted = try Curl.get(url, token: admin, arguments: client)
        XCTAssertEqual(untrusted.exitCode, 60, untrusted.description)

        for _ in 1...2 {
            let ok = try Curl.get(url, token: admin, arguments: trust + client)
            XCTAssertEqual(ok.status, 200, ok.description)
        }
        let expired = try Curl.get(url, token: admin, arguments: trust + client)
        XCTAssertEqual(expired.status, 401, expired.description)
        XCTAssertTrue(expired.body.contains("token expired"), expired.body)
        let derived = try Curl.get(url, token: admin + ".2", arguments: trust + client)
        XCTAssertEqual(derived.status, 200, derived.description)

        XCTAssertEqual(process.stop(), 0, process.stderr())
        XCTAssertEqual(process.stderr(), "scimsh sandbox: stopping\n")
    }

    func testMissingCertificateFileIsAClearErrorNotACrash() throws {
        try E2E.requireBinary(Fixtures.scimshPath)
        let pki = try makePKI()
        let missing = pki.directory + "/missing.pem"
        let r = try Fixtures.runScimsh(["sandbox", "--port", "0", "--tls-cert", missing, "--tls-key", pki.serverKey])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(
            r.stderr,
            "scimsh sandbox: cannot start: cannot read the TLS certificate chain (--tls-cert) \(missing): no such file\n"
        )

        let mismatched = try Fixtures.runScimsh([
            "sandbox", "--port", "0", "--tls-cert", pki.serverCertificate, "--tls-key", pki.clientKey,
        ])
        XCTAssertEqual(mismatched.status, 1, mismatched.stderr)
        XCTAssertTrue(
            mismatched.stderr.hasPrefix("scimsh sandbox: cannot start: the TLS certificate "), mismatched.stderr)
        XCTAssertTrue(mismatched.stderr.contains("cannot be used together"), mismatched.stderr)
    }

    func testTLSOptionsThatDoNotGoTogetherAreUsageErrors() throws {
        try E2E.requireBinary(Fixtures.scimshPath)
        let cases: [([String], String)] = [
            (["--tls-key", "k.pem"], "--tls-key needs --tls-cert"),
            (["--tls-cert", "c.pem"], "--tls-cert needs --tls-key"),
            (["--tls-client-ca", "ca.pem"], "--tls-client-ca needs --tls-cert and --tls-key"),
            (["--token-lifetime", "0"], "--token-lifetime must be 1 or more"),
        ]
        for (arguments, message) in cases {
            let r = try Fixtures.runScimsh(["sandbox", "--port", "0"] + arguments)
            XCTAssertEqual(r.status, 2, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("scimsh: \(message)\nUsage: scimsh sandbox "), "\(arguments): \(r.stderr)")
            XCTAssertEqual(r.stdout, "")
        }
        let help = try Fixtures.runScimsh(["sandbox", "--help"])
        for option in ["--tls-cert", "--tls-key", "--tls-client-ca", "--token-lifetime"] {
            XCTAssertTrue(help.stdout.contains(option), "\(option) in help:\n\(help.stdout)")
        }
    }
}
