import NIOCore
import NIOPosix
import NIOSSL
import SCIMCore

#if canImport(Glibc)
    import Glibc
#endif

/// Says why a server's certificate was not trusted. BoringSSL reports only "certificate verify failed"; a
/// second handshake that looks at the certificate the server presents tells an expired certificate from one
/// signed by an authority this machine does not trust, so the message can say what to do.
enum TLSDiagnosis {
    /// The reason for a failed certificate check on `origin`, with what to do.
    static func explain(origin: RequestOrigin, settings: TransportSettings) async -> String {
        let trustHint =
            settings.tls.caFile.map { "the CA file '\($0)' does not hold the authority that signed it" }
            ?? "this machine's trust store does not hold the authority that signed it"
        let unknownCA =
            "the server's certificate is not trusted: \(trustHint). If the server uses an internal CA, give its "
            + "certificate with --cacert FILE (or set ca_file, or SSL_CERT_FILE); --insecure turns checks off"
        // Through a proxy, a direct connection may be impossible: give the general answer.
        guard settings.proxy == nil, let leaf = await peerCertificate(origin) else { return unknownCA }
        let now = time(nil)
        if leaf.notValidAfter < now {
            return "the server's certificate expired on \(date(leaf.notValidAfter)): the server's admins must renew "
                + "it (--insecure turns checks off, at the price of trusting anyone on the path)"
        }
        if leaf.notValidBefore > now {
            return "the server's certificate is not valid before \(date(leaf.notValidBefore)): check this machine's "
                + "clock, or ask the server's admins"
        }
        return unknownCA
    }

    static func date(_ t: time_t) -> String { UTCTime.day(Int(t)) + " UTC" }

    /// The certificate the server presents, read in a handshake that accepts any certificate and sends nothing
    /// else; `nil` when the server cannot be reached within a few seconds.
    static func peerCertificate(_ origin: RequestOrigin) async -> NIOSSLCertificate? {
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateVerification = .fullVerification
        guard let context = try? NIOSSLContext(configuration: config) else { return nil }
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let seen = loop.makePromise(of: NIOSSLCertificate?.self)
        let sni = IPAddress.bytes(origin.host) == nil ? origin.host : nil
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(context: context, serverHostname: sni) { chain, promise in
                        seen.succeed(chain.first)
                        promise.succeed(NIOSSLVerificationResult.failed)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: origin.host, port: origin.port).get()
        } catch {
            seen.succeed(nil)
            return nil
        }
        loop.scheduleTask(in: .seconds(5)) { seen.succeed(nil) }
        channel.closeFuture.whenComplete { _ in loop.scheduleTask(in: .milliseconds(50)) { seen.succeed(nil) } }
        let certificate = try? await seen.futureResult.get()
        try? await channel.close()
        return certificate ?? nil
    }
}
