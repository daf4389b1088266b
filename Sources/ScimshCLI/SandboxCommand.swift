import ArgumentParser
import SCIMSandbox
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `scimsh sandbox`: the ODM-compatible sandbox server, stand-alone.
///
/// It captures what it does not know for passthrough, only so that the root command stops reading its own options
/// at `sandbox` (they share `--host` and `--base-path`); ``validate()`` lets nothing through.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox", abstract: "Run the local ODM-compatible sandbox server (stop it with Ctrl-C).")

    @OptionGroup var options: SandboxOptions

    @Argument(parsing: .captureForPassthrough, help: .hidden)
    var unexpected: [String] = []

    func validate() throws {
        if !unexpected.isEmpty {
            // Asked alone, the options (which capture nothing) tell help from an unknown option or a stray value.
            do {
                _ = try SandboxOptions.parse(unexpected)
            } catch {
                if SandboxOptions.exitCode(for: error) == .success { throw CleanExit.helpRequest(self) }
                throw ValidationError(SandboxOptions.message(for: error))
            }
        }
        let checks: [(Bool, String)] = [
            ((0...65535).contains(options.port), "--port must be 0...65535"),
            (options.users >= 0, "--users must be 0 or more"),
            ((0...1).contains(options.failureRate), "--failure-rate must be 0...1"),
            (options.latencyMs >= 0, "--latency-ms must be 0 or more"),
            ((options.tokenLifetime ?? 1) >= 1, "--token-lifetime must be 1 or more"),
            ((options.rateLimit ?? 1) >= 1, "--rate-limit must be 1 or more"),
        ]
        if let failed = checks.first(where: { !$0.0 }) { throw ValidationError(failed.1) }
        _ = try options.tls()
    }

    /// Serves until SIGINT or SIGTERM.
    func run() throws {
        let tls = try options.tls()
        // Block SIGINT/SIGTERM in every thread (NIO's included) and wait for them here.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, nil)

        var configuration = SandboxConfiguration(
            host: options.host, port: options.port, basePath: options.basePath, adminToken: options.adminToken,
            limitedToken: options.limitedToken, generatedUsers: options.users, seedUsers: !options.noSeed,
            latency: .milliseconds(options.latencyMs), failureRate: options.failureRate,
            ignoreUnsupportedFilterClauses: options.ignoreUnsupportedFilters, tls: tls,
            tokenLifetime: options.tokenLifetime)
        configuration.rateLimit = options.rateLimit
        let server: SandboxServer
        switch SandboxServer.startBlocking(configuration) {
        case .success(let s): server = s
        case .failure(let f):
            Stdio.writeAll(2, "scimsh sandbox: cannot start: \(f.message)\n")
            throw ExitCode(1)
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
        let userTokens = SandboxConfiguration.defaultUserTokens.keys.sorted().joined(separator: ", ")
        Stdio.writeAll(
            1,
            """
            scimsh sandbox: serving the ODM SCIM Users API at \(server.baseURL)
              users:          \(server.users().count)
              groups:         \(server.sandbox.groups().count)   (the Groups API answers per token's user)
              admin token:    \(options.adminToken)   (Authorization: Bearer … or Genestack-API-Token: …)
              limited token:  \(options.limitedToken)   (valid, without Manage organization: 403)
              user tokens:    \(userTokens)   (plain users: 403)
            \(extra)try:  curl \(curlTLS)-H 'Authorization: Bearer \(options.adminToken)' '\(server.baseURL)/Users?count=2'
            Stop with Ctrl-C.

            """)
        var sig: Int32 = 0
        sigwait(&set, &sig)
        Stdio.writeAll(2, "scimsh sandbox: stopping\n")
        Blocking.run { await server.stop() }
    }
}

/// The options of `scimsh sandbox`.
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

    @Option(
        name: .customLong("rate-limit"),
        help: ArgumentHelp(
            "Serve at most N requests a second (a token bucket); answer the rest 429 with Retry-After.",
            valueName: "n"))
    var rateLimit: Int?

    /// The TLS files, or why the TLS options do not go together.
    func tls() throws(ValidationError) -> SandboxTLS? {
        switch (tlsCert, tlsKey) {
        case (nil, nil):
            if tlsClientCA != nil { throw ValidationError("--tls-client-ca needs --tls-cert and --tls-key") }
            return nil
        case (let cert?, let key?):
            return SandboxTLS(certificateChainFile: cert, privateKeyFile: key, clientCAFile: tlsClientCA)
        case (nil, _?):
            throw ValidationError("--tls-key needs --tls-cert")
        case (_?, nil):
            throw ValidationError("--tls-cert needs --tls-key")
        }
    }
}
