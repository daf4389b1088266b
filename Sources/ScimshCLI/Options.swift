import ArgumentParser
import SCIMClient

/// The command line of `scimsh`: its options, the script and its arguments (the default subcommand), `sandbox`.
///
/// The options come before the script; everything from the script file on is the script's, options included.
/// ArgumentParser does this: the default subcommand captures its input for passthrough, so the root command reads
/// options only up to the first input it does not know (see ``ScimshMain/parse(_:)`` for an unknown option).
struct Scimsh: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scimsh",
        abstract: "A shell for administering users over SCIM 2.0 (Genestack ODM first).",
        usage: "scimsh [OPTIONS] [FILE.scim [ARGS...]]",
        discussion: """
            Examples:
              scimsh                      the shell (on the sandbox when no host is set)
              scimsh offboard.scim a b    run a script with arguments $1, $2 (options too)
              scimsh -c 'find | count'    run statements given as text
              scimsh - < script.scim      read statements from standard input
              scimsh sandbox --port 8080  serve the local ODM-compatible sandbox
              scimsh tutorial             learn SCIM and scimsh in short lessons

            Environment: SCIMSH_HOST, SCIMSH_TOKEN (Authorization: Bearer),
            SCIMSH_API_TOKEN (Genestack-API-Token), SCIMSH_PROFILE (a profile of
            profiles.toml: see 'help connect' at the prompt).
            """,
        version: "scimsh \(SCIMClientVersion.current)",
        subcommands: [SandboxCommand.self, TutorialCommand.self, ScriptCommand.self],
        defaultSubcommand: ScriptCommand.self)

    /// Usage errors start with the program's name, like its other messages.
    static var _errorPrefix: String { "scimsh: " }

    @OptionGroup var options: RootOptions
}

/// `scimsh [OPTIONS] [FILE.scim [ARGS...]]`: a script, `-c`, standard input or the REPL (hidden: it is the default).
struct ScriptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a script, statements or the interactive shell (the default).",
        shouldDisplay: false)

    @ParentCommand var scimsh: Scimsh

    @Argument(parsing: .captureForPassthrough, help: "A script file (- for standard input) and its arguments.")
    var script: [String] = []

    func run() throws {
        let status = Runner(options: scimsh.options, script: script).run()
        if status != 0 { throw ExitCode(status) }
    }
}

/// The options of `scimsh` before a script file (the `scimsh` command's own; `sandbox` has its own).
struct RootOptions: ParsableArguments {
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
}
