import Foundation
import SCIMSandbox

/// A throwaway public-key infrastructure for TLS tests, made at run time with the `openssl` command (Debian
/// package `openssl`) in a fresh temporary folder: a CA, server certificates good, for the wrong host and expired,
/// a client certificate for mutual TLS, and a second, unrelated CA with a client certificate of its own.
///
/// Keys are EC (prime256v1) and unencrypted, so making all of it takes a few tenths of a second. Every file,
/// including openssl's CA database, stays inside ``directory``; ``remove()`` deletes it.
///
/// ```swift
/// let pki = try TestPKI.create()
/// defer { pki.remove() }
/// let server = try await SandboxServer.start(SandboxConfiguration(tls: pki.sandboxTLS()))
/// // curl --cacert pki.caCertificate ...
/// ```
public struct TestPKI: Sendable {
    /// The folder holding every file.
    public let directory: String
    /// The CA's certificate (PEM): what a client trusts (`curl --cacert`), and the client CA for mutual TLS.
    public let caCertificate: String
    /// The CA's private key (PEM).
    public let caKey: String
    /// A server certificate signed by the CA for `127.0.0.1` and `localhost` (subject alternative names IP and
    /// DNS), valid from an hour ago for two days.
    public let serverCertificate: String
    /// The private key of ``serverCertificate``.
    public let serverKey: String
    /// A server certificate signed by the CA for ``wrongHostName`` only: host name verification fails for
    /// `127.0.0.1` and `localhost`.
    public let wrongHostCertificate: String
    /// The private key of ``wrongHostCertificate``.
    public let wrongHostKey: String
    /// A server certificate signed by the CA for `127.0.0.1` and `localhost` that expired on 2 January 2020.
    public let expiredCertificate: String
    /// The private key of ``expiredCertificate``.
    public let expiredKey: String
    /// A client certificate (extended key usage clientAuth) signed by the CA, for mutual TLS.
    public let clientCertificate: String
    /// The private key of ``clientCertificate``.
    public let clientKey: String
    /// A second CA that has signed nothing the server presents: trusting it alone must fail verification.
    public let otherCACertificate: String
    /// The private key of ``otherCACertificate``.
    public let otherCAKey: String
    /// A client certificate signed by the other CA: a server requiring the first CA's clients must refuse it.
    public let otherClientCertificate: String
    /// The private key of ``otherClientCertificate``.
    public let otherClientKey: String

    /// The only name in ``wrongHostCertificate``.
    public static let wrongHostName = "other.invalid"

    /// The `openssl` executable, if installed.
    public static var openssl: String? { ChildProcess.executable(named: "openssl") }

    /// Makes a new PKI in a fresh temporary folder.
    ///
    /// - Throws: ``ChildProcessError`` when openssl is missing or one of its commands fails (with its output).
    public static func create() throws -> TestPKI {
        guard let openssl else {
            throw ChildProcessError("openssl is not installed (apt-get install openssl, or make test-deps)")
        }
        let dir = try Fixtures.temporaryDirectory()
        do {
            return try TestPKI(directory: dir, openssl: openssl)
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
    }

    private init(directory dir: String, openssl: String) throws {
        directory = dir
        let maker = Maker(directory: dir, openssl: openssl)
        try maker.prepare()
        (caCertificate, caKey) = try maker.authority("ca", name: "scimsh test CA")
        (otherCACertificate, otherCAKey) = try maker.authority("other-ca", name: "scimsh unrelated test CA")
        let now = Date()
        let valid = (Maker.time(now.addingTimeInterval(-3600)), Maker.time(now.addingTimeInterval(2 * 86_400)))
        (serverCertificate, serverKey) = try maker.leaf(
            "server", name: "127.0.0.1", profile: "server", ca: "ca", dates: valid)
        (wrongHostCertificate, wrongHostKey) = try maker.leaf(
            "wrong-host", name: Self.wrongHostName, profile: "wrong_host", ca: "ca", dates: valid)
        (expiredCertificate, expiredKey) = try maker.leaf(
            "expired", name: "127.0.0.1", profile: "server", ca: "ca", dates: ("20200101000000Z", "20200102000000Z"))
        (clientCertificate, clientKey) = try maker.leaf(
            "client", name: "scimsh test client", profile: "client", ca: "ca", dates: valid)
        (otherClientCertificate, otherClientKey) = try maker.leaf(
            "other-client", name: "scimsh unrelated test client", profile: "client", ca: "other-ca", dates: valid)
    }

    /// Sandbox TLS settings with ``serverCertificate``; with `requiringClientCertificates`, clients must present
    /// a certificate signed by the CA (``clientCertificate`` is one).
    public func sandboxTLS(requiringClientCertificates: Bool = false) -> SandboxTLS {
        SandboxTLS(
            certificateChainFile: serverCertificate, privateKeyFile: serverKey,
            clientCAFile: requiringClientCertificates ? caCertificate : nil)
    }

    /// Deletes the folder and every file in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs openssl with a configuration file of its own, so the system's openssl.cnf plays no part.
    private struct Maker {
        let directory: String
        let openssl: String
        var config: String { directory + "/openssl.cnf" }

        /// Writes the configuration and the CA database (inside the folder).
        func prepare() throws {
            try FileManager.default.createDirectory(atPath: directory + "/issued", withIntermediateDirectories: true)
            try "".write(toFile: directory + "/index.txt", atomically: false, encoding: .utf8)
            try "1000\n".write(toFile: directory + "/serial", atomically: false, encoding: .utf8)
            let leaf =
                "basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\n"
                + "authorityKeyIdentifier = keyid\n"
            let text = """
                [ req ]
                distinguished_name = dn
                [ dn ]
                [ v3_ca ]
                basicConstraints = critical, CA:TRUE
                keyUsage = critical, keyCertSign, cRLSign
                subjectKeyIdentifier = hash
                [ ca ]
                default_ca = signing
                [ signing ]
                database = \(directory)/index.txt
                new_certs_dir = \(directory)/issued
                serial = \(directory)/serial
                default_md = sha256
                policy = any
                unique_subject = no
                copy_extensions = none
                [ any ]
                commonName = supplied
                [ server ]
                \(leaf)extendedKeyUsage = serverAuth
                subjectAltName = IP:127.0.0.1, DNS:localhost
                [ wrong_host ]
                \(leaf)extendedKeyUsage = serverAuth
                subjectAltName = DNS:\(TestPKI.wrongHostName)
                [ client ]
                \(leaf)extendedKeyUsage = clientAuth

                """
            try text.write(toFile: config, atomically: false, encoding: .utf8)
        }

        /// A self-signed CA valid for two days: (certificate, key) paths.
        func authority(_ file: String, name: String) throws -> (String, String) {
            let (cert, key) = (directory + "/\(file).pem", directory + "/\(file).key")
            try run(
                ["req", "-config", config, "-x509", "-extensions", "v3_ca", "-days", "2"] + newKey(key)
                    + ["-out", cert, "-subj", "/CN=\(name)"])
            return (cert, key)
        }

        /// A certificate signed by the CA `ca` with the extensions of `profile`: (certificate, key) paths.
        func leaf(
            _ file: String, name: String, profile: String, ca: String, dates: (String, String)
        ) throws -> (String, String) {
            let (cert, key, request) = (
                directory + "/\(file).pem", directory + "/\(file).key", directory + "/\(file).csr"
            )
            try run(["req", "-config", config, "-new"] + newKey(key) + ["-out", request, "-subj", "/CN=\(name)"])
            // `openssl ca` rather than `x509 -req`: openssl 3.0's x509 cannot set a notBefore in the past.
            try run([
                "ca", "-config", config, "-batch", "-notext", "-cert", directory + "/\(ca).pem",
                "-keyfile", directory + "/\(ca).key", "-extensions", profile, "-startdate", dates.0,
                "-enddate", dates.1, "-in", request, "-out", cert,
            ])
            return (cert, key)
        }

        func newKey(_ key: String) -> [String] {
            ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key]
        }

        func run(_ arguments: [String]) throws {
            // RANDFILE and HOME point into the folder, so openssl writes no state file anywhere else.
            let result = try Fixtures.run(
                openssl, arguments,
                environment: ["OPENSSL_CONF": config, "RANDFILE": directory + "/.rnd", "HOME": directory],
                currentDirectory: directory, timeout: 30)
            guard result.status == 0 else {
                throw ChildProcessError(
                    "openssl \(arguments.joined(separator: " ")) failed (\(result.status)):\n\(result.stderr)")
            }
        }

        /// A time in openssl's GeneralizedTime form, `20260102030405Z`.
        static func time(_ date: Date) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMddHHmmss'Z'"
            return formatter.string(from: date)
        }
    }
}
