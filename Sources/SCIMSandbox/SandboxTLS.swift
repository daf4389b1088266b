import Foundation
import HummingbirdCore
import HummingbirdTLS
import NIOSSL

/// The files of an HTTPS sandbox: its certificate chain and private key, and optionally the CA that client
/// certificates must be signed by (mutual TLS).
///
/// The files are read when ``SandboxServer/start(_:)`` runs; a missing, unreadable or malformed file makes it
/// throw a ``SandboxStartError`` that names the file.
public struct SandboxTLS: Sendable, Equatable {
    /// A PEM file with the server's certificate first, then any intermediate certificates.
    public var certificateChainFile: String
    /// A PEM file with the private key of the first certificate in ``certificateChainFile``.
    public var privateKeyFile: String
    /// A PEM file with the CA certificate(s) that sign acceptable client certificates. When set, the server
    /// requires every client to present a certificate signed by one of them; `nil` asks for none.
    public var clientCAFile: String?

    /// TLS settings from PEM file paths.
    public init(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
    }
}

extension SandboxTLS {
    /// The HTTPS server of these files, or an error naming the file that is missing, unreadable or malformed.
    func serverBuilder() throws(SandboxStartError) -> HTTPServerBuilder {
        let chain = try Self.certificates(in: certificateChainFile, what: "TLS certificate chain (--tls-cert)")
        let key = try Self.privateKey(in: privateKeyFile)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        if let clientCAFile {
            let authorities = try Self.certificates(in: clientCAFile, what: "client CA (--tls-client-ca)")
            configuration.trustRoots = .certificates(authorities)
            // A server has no host name to check; with a verification mode set, NIOSSL requires a client
            // certificate that chains to the trust roots.
            configuration.certificateVerification = .noHostnameVerification
            configuration.sendCANameList = true
        }
        do {
            // Builds the SSL context now, so a key that does not belong to the certificate fails here.
            _ = try NIOSSLContext(configuration: configuration)
            return try HTTPServerBuilder.tls(.http1(), tlsConfiguration: configuration)
        } catch {
            throw SandboxStartError(
                message: "the TLS certificate \(certificateChainFile) and key \(privateKeyFile) cannot be used "
                    + "together: \(error)")
        }
    }

    /// The contents of a file, or an error saying why it cannot be read.
    static func contents(of path: String, what: String) throws(SandboxStartError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SandboxStartError(message: "cannot read the \(what) \(path): no such file")
        }
        guard !isDirectory.boolValue else {
            throw SandboxStartError(message: "cannot read the \(what) \(path): it is a directory")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SandboxStartError(message: "cannot read the \(what) \(path): permission denied or I/O error")
        }
        return Array(data)
    }

    /// The certificates of a PEM file (at least one).
    static func certificates(in path: String, what: String) throws(SandboxStartError) -> [NIOSSLCertificate] {
        let bytes = try contents(of: path, what: what)
        guard String(decoding: bytes, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            throw SandboxStartError(
                message: "the \(what) \(path) holds no certificate (expected -----BEGIN CERTIFICATE-----)")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw SandboxStartError(message: "the \(what) \(path) is not a valid PEM certificate file: \(error)")
        }
        guard !certificates.isEmpty else {
            throw SandboxStartError(
                message: "the \(what) \(path) holds no certificate (expected -----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }

    /// The private key of a PEM file; encrypted keys are refused rather than prompting for a passphrase.
    static func privateKey(in path: String) throws(SandboxStartError) -> NIOSSLPrivateKey {
        let what = "TLS private key (--tls-key)"
        let bytes = try contents(of: path, what: what)
        if String(decoding: bytes, as: UTF8.self).contains("ENCRYPTED") {
            throw SandboxStartError(
                message: "the \(what) \(path) is encrypted; the sandbox needs an unencrypted PEM key")
        }
        do {
            // An empty passphrase: BoringSSL would otherwise prompt on the terminal for an encrypted key.
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem) { (_: NIOSSLPassphraseSetter<[UInt8]>) in }
        } catch {
            throw SandboxStartError(message: "the \(what) \(path) is not a valid PEM private key: \(error)")
        }
    }
}
