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

    @Flag(help: "Print the version and exit.")
    var version = false

    @Argument(parsing: .captureForPassthrough, help: "A script file (- for standard input) and its arguments.")
    var script: [String] = []
}
