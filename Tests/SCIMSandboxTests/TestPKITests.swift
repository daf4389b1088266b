import Foundation
import SCIMTestSupport
import XCTest

/// The test PKI, checked with `openssl verify` and `openssl x509` rather than with our own TLS code.
final class TestPKITests: XCTestCase {
    func openssl(_ arguments: [String]) throws -> Fixtures.ProcessResult {
        try Fixtures.run(try XCTUnwrap(TestPKI.openssl), arguments)
    }

    func testCertificatesVerifyAsDescribed() throws {
        let started = ContinuousClock.now
        let pki = try TestPKI.create()
        let elapsed = ContinuousClock.now - started
        defer { pki.remove() }
        // Fast enough to make one per test (EC keys); generous for a loaded machine.
        XCTAssertLessThan(elapsed, .seconds(5))

        for (certificate, ca) in [
            (pki.serverCertificate, pki.caCertificate), (pki.wrongHostCertificate, pki.caCertificate),
            (pki.clientCertificate, pki.caCertificate), (pki.otherClientCertificate, pki.otherCACertificate),
        ] {
            let r = try openssl(["verify", "-CAfile", ca, certificate])
            XCTAssertEqual(r.status, 0, "\(certificate): \(r.stdout) \(r.stderr)")
        }
        let foreign = try openssl(["verify", "-CAfile", pki.otherCACertificate, pki.serverCertificate])
        XCTAssertNotEqual(foreign.status, 0, "the other CA did not sign the server certificate")
        let expired = try openssl(["verify", "-CAfile", pki.caCertificate, pki.expiredCertificate])
        XCTAssertNotEqual(expired.status, 0)
        XCTAssertTrue((expired.stdout + expired.stderr).contains("expired"), expired.stdout + expired.stderr)

        let names = try openssl(["x509", "-in", pki.serverCertificate, "-noout", "-ext", "subjectAltName"])
        XCTAssertTrue(names.stdout.contains("IP Address:127.0.0.1, DNS:localhost"), names.stdout)
        let wrong = try openssl(["x509", "-in", pki.wrongHostCertificate, "-noout", "-ext", "subjectAltName"])
        XCTAssertTrue(wrong.stdout.contains("DNS:other.invalid"), wrong.stdout)
        XCTAssertFalse(wrong.stdout.contains("127.0.0.1") || wrong.stdout.contains("localhost"), wrong.stdout)
        let purpose = try openssl(["x509", "-in", pki.clientCertificate, "-noout", "-ext", "extendedKeyUsage"])
        XCTAssertTrue(purpose.stdout.contains("Client Authentication"), purpose.stdout)
        let key = try openssl(["pkey", "-in", pki.serverKey, "-noout", "-text"])
        XCTAssertTrue(key.stdout.contains("prime256v1"), key.stdout)

        let files = [
            pki.caCertificate, pki.caKey, pki.serverCertificate, pki.serverKey, pki.wrongHostCertificate,
            pki.wrongHostKey, pki.expiredCertificate, pki.expiredKey, pki.clientCertificate, pki.clientKey,
            pki.otherCACertificate, pki.otherCAKey, pki.otherClientCertificate, pki.otherClientKey,
        ]
        for file in files {
            XCTAssertTrue(file.hasPrefix(pki.directory + "/"), file)
            XCTAssertTrue(FileManager.default.fileExists(atPath: file), file)
        }
        pki.remove()
        XCTAssertFalse(FileManager.default.fileExists(atPath: pki.directory))
    }
}
