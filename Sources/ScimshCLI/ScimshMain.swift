import ArgumentParser
import LineEditor
import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMScript

#if canImport(Glibc)
    import Glibc
#endif

/// The `scimsh` program: argument handling (``Scimsh``), script running, the REPL and the sandbox server.
///
/// Exit codes: 0 success, 1 a statement failed at run time, 2 usage or parse error, 130 interrupted, 143 and 129
/// stopped by SIGTERM and SIGHUP.
public enum ScimshMain {
    /// Runs scimsh with the process's arguments and exits.
    public static func main() -> Never {
        exit(Interrupts.shared.exitCode(run(Array(CommandLine.arguments.dropFirst()))))
    }

    /// Runs scimsh with these arguments and returns the exit code.
    public static func run(_ args: [String]) -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parse(args)
            try command.run()
            return 0
        } catch {
            // Help and version on stdout with 0; usage errors name scimsh and exit 2; a run's status as it is.
            let code = Scimsh.exitCode(for: error)
            var message = Scimsh.fullMessage(for: error)
            if code == .success {
                if args == ["--experimental-dump-help"] { message = HelpDump.removingHiddenSubcommands(message) }
                Stdio.writeAll(1, message + "\n")
                return 0
            }
            if !message.isEmpty { Stdio.writeAll(2, message + "\n") }
            return code == .validationFailure ? 2 : code.rawValue
        }
    }

    /// Parses the command line, telling an unknown option before the script from the script.
    ///
    /// The root command reads options up to the first input it does not know, and the default subcommand captures
    /// that input with everything after it. When that input looks like an option, ArgumentParser is asked about it
    /// alone: it is help or the version, or the script command gets it again and it is an unknown option.
    static func parse(_ args: [String]) throws -> any ParsableCommand {
        let command = try Scimsh.parseAsRoot(args)
        guard let script = command as? ScriptCommand, let first = script.script.first, first.hasPrefix("-"),
            first != "-", first != "--"
        else { return command }
        let alone = try Scimsh.parseAsRoot([first])
        if alone is ScriptCommand { throw ValidationError("Unknown option '\(first)'") }
        return alone
    }
}

/// One run of scimsh in script, `-c`, stdin or REPL mode.
struct Runner {
    let options: RootOptions
    /// The script file (or `-`, or `--` first) and its arguments; with `-c`, the arguments alone.
    let script: [String]
    let environment = Interpreter.currentEnvironment()

    func run() -> Int32 {
        if let output = options.output, OutputFormat(rawValue: output.lowercased()) == nil {
            return Stdio.fail("--output must be one of table, json, jsonl, csv, show (not '\(output)')", 2)
        }
        if let host = options.host ?? environment["SCIMSH_HOST"], !host.hasPrefix("http://"),
            !host.hasPrefix("https://")
        {
            return Stdio.fail("--host must start with http:// or https:// (got '\(host)')", 2)
        }
        if options.sandbox, options.profile != nil {
            return Stdio.fail("--sandbox and --profile exclude each other: the sandbox is a server of its own", 2)
        }
        Interrupts.shared.install()
        let stdinIsTerminal = Stdio.isTerminal(0)
        let interactive = options.command == nil && script.isEmpty && stdinIsTerminal
        let sink = StdioSink()
        // The environment first, then the profile, then flags: the more explicit setting wins.
        var session = Session()
        if let h = environment["SCIMSH_HOST"] { session.set("host", .string(h)) }
        if let t = environment["SCIMSH_TOKEN"], !t.isEmpty { session.set("token", .string(t)) }
        if let t = environment["SCIMSH_API_TOKEN"], !t.isEmpty { session.set("api_token", .string(t)) }
        if let failure = connectProfile(&session) { return failure }
        applyConnectionFlags(&session)
        if let o = options.output { session.set("output", .string(o.lowercased())) }
        if options.continueOnError { session.set("on_error", .string("continue")) }
        if options.dryRun { session.set("dry_run", .string("on")) }
        if let t = options.trace {
            guard TraceMode(rawValue: t.lowercased()) != nil else {
                return Stdio.fail("--trace must be on, curl or off (not '\(t)')", 2)
            }
            session.set("trace", .string(t.lowercased()))
        }

        // The sandbox: asked for, or the REPL with no host (said clearly in banner and prompt).
        var server: SandboxServer?
        let wantSandbox = options.sandbox || (interactive && session.string("host") == nil)
        if wantSandbox {
            let basePath = options.basePath ?? SCIMConfiguration.odmBasePath
            switch SandboxServer.startBlocking(
                SandboxConfiguration(basePath: basePath, generatedUsers: max(0, options.sandboxUsers)))
            {
            case .success(let s):
                server = s
                session.connect(to: s)
            case .failure(let f):
                return Stdio.fail("cannot start the sandbox: \(f.message)", 1)
            }
        }
        // Writes to a sandbox vanish with it, so they are journaled in a file of this run only, never mixed into
        // the journal of real servers (unless SCIMSH_JOURNAL says where).
        var journalPath: String?
        if server != nil, environment["SCIMSH_JOURNAL"] == nil {
            journalPath = SandboxJournal.makePath(environment: environment)
        }
        defer {
            if let server { Blocking.run { await server.stop() } }
            if let journalPath { SandboxJournal.remove(journalPath) }
        }

        if interactive {
            return REPL(
                options: options, session: session, sink: sink, sandbox: server, environment: environment,
                journalPath: journalPath
            ).run()
        }

        // Script, -c or stdin.
        var scriptArgs = script
        if scriptArgs.first == "--" { scriptArgs.removeFirst() }
        let text: String
        let name: String
        var arguments: [String] = []
        if let c = options.command {
            text = c
            name = "<command line>"
            arguments = scriptArgs
        } else if let file = scriptArgs.first, file != "-" {
            do {
                text = try FileText.read(file)
            } catch { return Stdio.fail("cannot read script '\(file)': \(error.message)", 2) }
            name = file
            arguments = Array(scriptArgs.dropFirst())
        } else {
            guard let t = Stdio.readAllStdin() else { return Stdio.fail("standard input is not UTF-8 text", 2) }
            text = t
            name = "<stdin>"
            arguments = Array(scriptArgs.dropFirst())
        }
        let interpreter = Interpreter(
            sink: sink, environment: environment, arguments: arguments, interactive: false, session: session,
            journalPath: journalPath)
        let result = Blocking.run { await interpreter.run(text, name: name) }
        sink.flush()
        if result.status == .cancelled {
            Stdio.writeAll(2, "scimsh: \(Interrupts.shared.stopMessage)\n")
        }
        Blocking.run { await interpreter.shutdown() }
        return result.exitCode
    }
}

extension Runner {
    /// The profile `--profile` or `SCIMSH_PROFILE` names, if any.
    /// (`--sandbox` wins over `SCIMSH_PROFILE`; with `--profile` it is a usage error.)
    var profileName: String? {
        if let p = options.profile { return p }
        if !options.sandbox, let p = environment["SCIMSH_PROFILE"], !p.isEmpty { return p }
        return nil
    }

    /// Applies the chosen profile (its token fetched) to the session; an exit code when that fails: 2 for a
    /// problem with the file or the name, 1 when the token cannot be fetched, 130 when interrupted.
    func connectProfile(_ session: inout Session) -> Int32? {
        guard let name = profileName else { return nil }
        let environment = environment
        let result: Result<ResolvedProfile, ProfileError> = Blocking.run {
            do throws(ProfileError) {
                return .success(try await ResolvedProfile.load(named: name, environment: environment))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let resolved):
            session.connect(resolved)
            if resolved.profile.insecure, !options.insecure {
                Stdio.writeAll(2, "scimsh: " + ConnectionProfile.insecureWarning + "\n")
            }
            return nil
        case .failure(let error):
            Stdio.writeAll(2, "scimsh: \(error.message)\n")
            if error.isInterrupted { return 130 }
            return error.isConfigurationError ? 2 : 1
        }
    }

    /// Sets the session variables of the connection flags (after the profile, so they win).
    func applyConnectionFlags(_ session: inout Session) {
        let strings: [(String, String?)] = [
            ("host", options.host), ("base_path", options.basePath), ("ca_file", options.caFile),
            ("cert_file", options.certFile), ("key_file", options.keyFile), ("proxy", options.proxy),
        ]
        for (name, value) in strings { if let value { session.set(name, .string(value)) } }
        if options.allowHTTP { session.set("allow_http", .string("on")) }
        if options.insecure {
            session.set("insecure", .string("on"))
            Stdio.writeAll(2, "scimsh: " + ConnectionProfile.insecureWarning + "\n")
        }
    }
}

/// Why a sandbox did not start (its error as text).
struct SandboxStartFailure: Error {
    var message: String
}

extension SandboxServer {
    /// Starts a sandbox server from synchronous code (`--sandbox`, `scimsh sandbox`).
    static func startBlocking(_ configuration: SandboxConfiguration) -> Result<SandboxServer, SandboxStartFailure> {
        Blocking.run {
            do {
                return .success(try await SandboxServer.start(configuration))
            } catch {
                return .failure(SandboxStartFailure(message: "\(error)"))
            }
        }
    }
}

extension Session {
    /// Points host, base path and token at a sandbox server (its admin token).
    mutating func connect(to server: SandboxServer) {
        set("host", .string("http://\(server.host):\(server.port)"))
        set("base_path", .string(server.sandbox.configuration.basePath))
        set("token", .string(server.sandbox.configuration.adminToken))
        unset("api_token")
    }
}
