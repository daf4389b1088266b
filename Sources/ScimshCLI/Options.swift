import ArgumentParser

/// The command line of `scimsh` (everything but the `sandbox` subcommand).
struct RootOptions: ParsableArguments {
    static let usage = """
        scimsh [OPTIONS] [FILE.scim [ARGS...]]
          scimsh                       the interactive shell (against the sandbox when no host is set)
          scimsh offboard.scim a b     run a script; $1, $2 are its arguments
          scimsh -c 'find | count'     run statements given as text
          scimsh - < script.scim       read statements from standard input
          scimsh sandbox [--port P]    run the local ODM-compatible sandbox server
        """

    @Option(name: .customShort("c"), help: "Run these statements and exit.")
    var command: String?

    @Option(help: ArgumentHelp("The server, e.g. https://odm.example.com (or $SCIMSH_HOST).", valueName: "URL"))
    var host: String?

    @Option(name: .customLong("base-path"), help: "The SCIM base path (default /api/v1/scim).")
    var basePath: String?

    @Option(
        help: ArgumentHelp(
            "Connect with this profile of $XDG_CONFIG_HOME/scimsh/profiles.toml (or $SCIMSH_PROFILE).",
            valueName: "NAME"))
    var profile: String?

    @Option(
        name: .customLong("cacert"),
        help: ArgumentHelp("Trust the certificate authorities in this PEM file (sets ca_file).", valueName: "FILE"))
    var caFile: String?

    @Option(
        name: .customLong("cert"),
        help: ArgumentHelp("Client certificate for mutual TLS, PEM (sets cert_file).", valueName: "FILE"))
    var certFile: String?

    @Option(
        name: .customLong("key"),
        help: ArgumentHelp("Private key of the client certificate, PEM (sets key_file).", valueName: "FILE"))
    var keyFile: String?

    @Flag(help: "Skip certificate and host name verification: anyone on the path can read the token.")
    var insecure = false

    @Option(help: ArgumentHelp("Send requests through this proxy, e.g. http://proxy.corp:3128.", valueName: "URL"))
    var proxy: String?

    @Flag(
        name: .customLong("allow-http"),
        help: "Allow sending the token over plain http to a host other than loopback.")
    var allowHTTP = false

    @Option(help: "Output format: table, json, jsonl, csv, show.")
    var output: String?

    @Flag(help: "Start the embedded sandbox server and point host and token at it.")
    var sandbox = false

    @Option(name: .customLong("sandbox-users"), help: "With --sandbox: add N generated users.")
    var sandboxUsers: Int = 0

    @Flag(help: "Do not read ~/.scimshrc at the prompt.")
    var norc = false

    @Flag(name: .customLong("continue-on-error"), help: "Keep running a script after a failed statement.")
    var continueOnError = false

    @Flag(name: .customLong("dry-run"), help: "Write stages print their plan and send no write (set dry_run = on).")
    var dryRun = false

    @Option(
        help: ArgumentHelp(
            "Print every HTTP exchange on stderr (on), or each request as a curl command (curl).", valueName: "on|curl")
    )
    var trace: String?

    @Flag(help: "Print the version and exit.")
    var version = false

    @Argument(parsing: .captureForPassthrough, help: "A script file (- for standard input) and its arguments.")
    var script: [String] = []
}

extension RootOptions {
    /// What ``precheck(_:)`` found among the options before the script.
    enum Precheck: Equatable {
        case ok
        case help
        case unknown(String)
    }

    /// Options taking a value, and flags, as typed before a script file.
    /// (Keep in step with the properties above: CLITests checks every option `--help` shows.)
    static let valuedOptions: Set<String> = [
        "-c", "--host", "--base-path", "--output", "--sandbox-users", "--trace", "--profile", "--cacert", "--cert",
        "--key", "--proxy",
    ]
    static let flagOptions: Set<String> = [
        "--sandbox", "--norc", "--continue-on-error", "--dry-run", "--version", "--insecure", "--allow-http",
    ]

    /// Scans the options before the script file (or `--`, or `-`): `-h`/`--help` asks for help, an unknown
    /// `-x`/`--xyz` is a usage error. Everything from the script file on belongs to the script.
    static func precheck(_ args: [String]) -> Precheck {
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" || a == "-" || !a.hasPrefix("-") { return .ok }
            if a == "-h" || a == "--help" { return .help }
            let name = String(a.split(separator: "=", maxSplits: 1).first ?? "")
            if valuedOptions.contains(name) {
                i += a.contains("=") ? 1 : 2
            } else if flagOptions.contains(a) {
                i += 1
            } else {
                return .unknown(a)
            }
        }
        return .ok
    }

    /// The options part of `--help`.
    static var optionsHelp: String {
        let lines = helpMessage().split(separator: "\n", omittingEmptySubsequences: false)
        let options = lines.drop { !$0.hasPrefix("OPTIONS:") }
        return (options.isEmpty ? lines[...] : options).joined(separator: "\n")
            + "\nEnvironment: SCIMSH_HOST, SCIMSH_TOKEN (Authorization: Bearer), SCIMSH_API_TOKEN (Genestack-API-Token),"
            + "\n  SCIMSH_PROFILE (a profile of profiles.toml: see 'help connect' at the prompt)."
    }
}
