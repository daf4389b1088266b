import ArgumentParser
import SCIMSandbox
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `scimsh sandbox`: the ODM-compatible sandbox server, stand-alone.
struct SandboxOptions: ParsableArguments {
    @Option(help: "The port to listen on (0 picks a free one).")
    var port: Int = 8080

    @Option(help: "The address to listen on (loopback only by default).")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("base-path"), help: "The SCIM base path.")
    var basePath: String = "/api/v1/scim"

    @Option(help: "Generated users to add to the seed users.")
    var users: Int = 0

    @Flag(name: .customLong("no-seed"), help: "Start without the seed users.")
    var noSeed = false

    @Option(name: .customLong("admin-token"), help: "The token with the Manage organization permission.")
    var adminToken: String = SandboxConfiguration.defaultAdminToken

    @Option(name: .customLong("limited-token"), help: "A valid token without that permission (403).")
    var limitedToken: String = SandboxConfiguration.defaultLimitedToken

    @Option(name: .customLong("latency-ms"), help: "Added delay per request, in milliseconds.")
    var latencyMs: Int = 0

    @Option(name: .customLong("failure-rate"), help: "Share of requests (0...1) answered 503 with Retry-After.")
    var failureRate: Double = 0

    @Flag(
        name: .customLong("ignore-unsupported-filters"),
        help: "Silently ignore filter clauses ODM does not support instead of answering 400 (to test clients).")
    var ignoreUnsupportedFilters = false

    @Option(
        name: .customLong("tls-cert"),
        help: ArgumentHelp("Serve HTTPS with this PEM certificate chain (needs --tls-key).", valueName: "file"))
    var tlsCert: String?

    @Option(
        name: .customLong("tls-key"),
        help: ArgumentHelp("The unencrypted PEM private key of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(
        name: .customLong("tls-client-ca"),
        help: ArgumentHelp(
            "Require client certificates signed by this PEM CA (mutual TLS; needs --tls-cert).", valueName: "file"))
    var tlsClientCA: String?

    @Option(
        name: .customLong("token-lifetime"),
        help: ArgumentHelp(
            "Honour each token for N requests, then answer 401 'token expired'; also accept derived admin tokens "
                + "ADMIN.suffix (suffix: 1-64 of A-Z a-z 0-9 _ -), each with its own count.",
            valueName: "n"))
    var tokenLifetime: Int?

    /// The TLS files, or why the TLS options do not go together.
    func tls() throws(SandboxOptionError) -> SandboxTLS? {
        switch (tlsCert, tlsKey) {
        case (nil, nil):
            if tlsClientCA != nil { throw SandboxOptionError("--tls-client-ca needs --tls-cert and --tls-key") }
            return nil
        case (let cert?, let key?):
            return SandboxTLS(certificateChainFile: cert, privateKeyFile: key, clientCAFile: tlsClientCA)
        case (nil, _?):
            throw SandboxOptionError("--tls-key needs --tls-cert")
        case (_?, nil):
            throw SandboxOptionError("--tls-cert needs --tls-key")
        }
    }
}

/// A sandbox option that is out of range or lacks a partner option.
struct SandboxOptionError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

enum SandboxCommandRunner {
    static let usage =
        "scimsh sandbox [--port P] [--users N] [--admin-token T] [--limited-token T] [--latency-ms MS] [--failure-rate R]"
        + " [--token-lifetime N] [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]]"

    static func run(_ args: [String]) -> Int32 {
        let options: SandboxOptions
        do {
            options = try SandboxOptions.parse(args)
        } catch {
            let message = SandboxOptions.fullMessage(for: error)
            if SandboxOptions.exitCode(for: error) == .success {
                Stdio.writeAll(1, "usage: \(usage)\n\n" + SandboxOptions.helpMessage() + "\n")
                return 0
            }
            Stdio.writeAll(2, "scimsh sandbox: \(message)\nusage: \(usage)\n")
            return 2
        }
        guard (0...65535).contains(options.port), options.users >= 0, (0...1).contains(options.failureRate),
            options.latencyMs >= 0, (options.tokenLifetime ?? 1) >= 1
        else {
            Stdio.writeAll(
                2,
                "scimsh sandbox: --port 0-65535, --users >= 0, --failure-rate 0...1, --latency-ms >= 0, "
                    + "--token-lifetime >= 1\n")
            return 2
        }
        let tls: SandboxTLS?
        do throws(SandboxOptionError) {
            tls = try options.tls()
        } catch {
            Stdio.writeAll(2, "scimsh sandbox: \(error.message)\nusage: \(usage)\n")
            return 2
        }
        // Block SIGINT/SIGTERM in every thread (NIO's included) and wait for them here.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)

        let config = SandboxConfiguration(
            host: options.host, port: options.port, basePath: options.basePath, adminToken: options.adminToken,
            limitedToken: options.limitedToken, generatedUsers: options.users, seedUsers: !options.noSeed,
            latency: .milliseconds(options.latencyMs), failureRate: options.failureRate,
            ignoreUnsupportedFilterClauses: options.ignoreUnsupportedFilters, tls: tls,
            tokenLifetime: options.tokenLifetime)
        let started: Result<SandboxServer, SandboxStartFailure> = Blocking.run {
            do {
                return .success(try await SandboxServer.start(config))
            } catch {
                return .failure(SandboxStartFailure(message: "\(error)"))
            }
        }
        guard case .success(let server) = started else {
            if case .failure(let f) = started { Stdio.writeAll(2, "scimsh sandbox: cannot start: \(f.message)\n") }
            return 1
        }
        var extra = ""
        if let lifetime = options.tokenLifetime {
            extra += "  token lifetime: \(lifetime) requests per token (derived tokens: \(options.adminToken).SUFFIX)\n"
        }
        if let tls {
            extra += "  TLS:            certificate \(tls.certificateChainFile), key \(tls.privateKeyFile)\n"
            if let ca = tls.clientCAFile { extra += "  client certs:   required, signed by \(ca)\n" }
        }
        let curlTLS = tls == nil ? "" : "--cacert CA.pem "
        Stdio.writeAll(
            1,
            """
            scimsh sandbox: serving the ODM SCIM Users API at \(server.baseURL)
              users:          \(server.users().count)
              admin token:    \(options.adminToken)   (Authorization: Bearer … or Genestack-API-Token: …)
              limited token:  \(options.limitedToken)   (valid, without Manage organization: 403)
            \(extra)try:  curl \(curlTLS)-H 'Authorization: Bearer \(options.adminToken)' '\(server.baseURL)/Users?count=2'
            Stop with Ctrl-C.

            """)
        var sig: Int32 = 0
        sigwait(&set, &sig)
        Stdio.writeAll(2, "scimsh sandbox: stopping\n")
        Blocking.run { await server.stop() }
        return 0
    }
}
