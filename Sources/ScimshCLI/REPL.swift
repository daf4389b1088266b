import LineEditor
import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMScript

#if canImport(Glibc)
    import Glibc
#endif

/// The interactive shell: prompt, continuation lines, history, completion, Ctrl-C and Ctrl-D.
struct REPL {
    let options: RootOptions
    let session: Session
    let sink: StdioSink
    let sandbox: SandboxServer?
    let environment: [String: String]
    /// The journal to use instead of the standard one (a sandbox session's own).
    var journalPath: String?

    /// Runs until `exit` or Ctrl-D; returns 0.
    func run() -> Int32 {
        let interpreter = Interpreter(
            sink: sink, environment: environment, interactive: true, session: session, journalPath: journalPath)
        guard let editor = LineEditor(programName: "scimsh") else {
            Stdio.writeAll(2, "scimsh: cannot start line editing; reading plain lines\n")
            return PlainLoop(interpreter: interpreter).run()
        }
        // Secrecy is judged on the parsed statements (`set token \⏎= "…"` too), in memory and in the file.
        editor.isSecret = SecretStatements.setsSecret
        var historyFile = HistoryFile.standard(environment: environment)
        historyFile?.isSecret = SecretStatements.setsSecret
        if let historyFile {
            do {
                try editor.loadHistory(from: historyFile)
            } catch {
                Stdio.writeAll(2, "scimsh: history not loaded: \(error)\n")
            }
        }
        let cwd = FileSystem.currentDirectory()
        let home = environment["HOME"]
        let lookup = ServerValueLookup()
        editor.completionProvider = { line, cursor in
            let session = interpreter.session
            func context() -> CompletionContext {
                var context = CompletionContext(
                    commands: interpreter.commands.flatMap { [$0.name] + $0.aliases }.sorted(),
                    signatures: CommandSignature.table(interpreter.commands),
                    statements: BuiltinCommands.statements + ["exit", "quit", "history", "tutorial"],
                    attributes: interpreter.completionAttributes,
                    variables: Array(
                        Set(session.variables.keys).union(session.recordLists.keys)
                            .union(Session.knownVariables.map(\.name))
                    ).sorted(),
                    helpTopics: interpreter.helpTopics,
                    knownIds: interpreter.seen.ids,
                    knownUserNames: interpreter.seen.userNames,
                    fileLister: CompletionContext.directoryLister(currentDirectory: cwd, homeDirectory: home),
                    profileNames: (try? ProfileFile.load(environment: environment))?.profiles.map(\.name) ?? [])
                context.dialect = interpreter.completionDialect
                context.knownGroupNames = interpreter.seen.groupNames
                return context
            }
            var r = Completer.complete(line: line, cursor: cursor, context: context())
            // Nothing seen fits: one bounded lookup on the server (silent when it is slow), then again.
            if r.candidates.isEmpty, let want = ServerValueLookup.want(line: line, result: r),
                lookup.lookUp(want, interpreter: interpreter)
            {
                r = Completer.complete(line: line, cursor: cursor, context: context())
            }
            return Completion(candidates: r.candidates, replacing: r.range, appendsSpace: r.appendsSpace)
        }

        interpreter.setConfirmer { question in
            // The REPL's main thread is waiting for this statement, so reading the terminal here is safe; libedit
            // has restored the terminal's cooked mode when el_gets returned. Not `Swift.readLine()`: it blocks
            // in read(2) on a pool thread that Ctrl-C never interrupts (SIGINT goes to the main thread), so the
            // next line typed after Ctrl-C became the answer; and its stdio buffer would swallow type-ahead.
            Stdio.writeAll(2, question)
            guard let answer = await TerminalAnswer.readLine() else {
                Stdio.writeAll(2, "\n")
                return false
            }
            return ["y", "yes"].contains(answer.trimmingWhitespace().lowercased())
        }
        var recorder: Recorder?
        Stdio.writeAll(1, banner(interpreter))
        if !options.norc { runStartupFile(interpreter) }

        var pending = ""
        while true {
            let prompt = pending.isEmpty ? promptText(interpreter) : continuationPrompt(interpreter)
            switch editor.readLine(prompt: prompt) {
            case .endOfFile:
                if !pending.isEmpty {
                    pending = ""
                    continue
                }
                save(editor, historyFile)
                Blocking.run { await interpreter.shutdown() }
                return 0
            case .interrupted:
                pending = ""
                if let code = terminated(editor, historyFile, interpreter) { return code }
                continue
            case .line(let line):
                let text = pending.isEmpty ? line : pending + "\n" + line
                if interpreter.needsMoreInput(text) {
                    pending = text
                    continue
                }
                pending = ""
                let trimmed = text.trimmingWhitespace()
                if trimmed.isEmpty { continue }
                editor.addHistory(text)
                save(editor, historyFile)
                if trimmed == "exit" || trimmed == "quit" || trimmed == "\\q" {
                    Blocking.run { await interpreter.shutdown() }
                    return 0
                }
                if trimmed == "record" || trimmed.hasPrefix("record ") {
                    let arg = String(trimmed.dropFirst(6)).trimmingWhitespace()
                    if arg.isEmpty || arg == "off" {
                        if let r = recorder { Stdio.writeAll(2, "stopped recording to \(r.path)\n") }
                        recorder = nil
                    } else {
                        do {
                            recorder = try Recorder(path: arg)
                            Stdio.writeAll(2, "recording statements to \(arg) (record off to stop)\n")
                        } catch {
                            Stdio.writeAll(2, "cannot record to \(arg): \(error.message)\n")
                        }
                    }
                    continue
                }
                if trimmed == "tutorial" || trimmed.hasPrefix("tutorial ") {
                    Tutorial.atPrompt(trimmed, editor: editor, environment: environment)
                    if let code = terminated(editor, historyFile, interpreter) { return code }
                    continue
                }
                if trimmed == "history" || trimmed.hasPrefix("history ") {
                    let n = Int(String(trimmed.dropFirst(7)).trimmingWhitespace()) ?? 20
                    let entries = editor.historyEntries.suffix(max(1, n))
                    let first = editor.historyEntries.count - entries.count + 1
                    var out = ""
                    for (i, e) in entries.enumerated() { out += "\(first + i)  \(e)\n" }
                    Stdio.writeAll(1, interpreter.session.scrub(out))
                    continue
                }
                let result = Blocking.run { await interpreter.run(text, name: "<prompt>") }
                if result.status != .parseError { recorder?.record(text) }
                if let code = terminated(editor, historyFile, interpreter) { return code }
                if result.status == .cancelled {
                    Stdio.writeAll(2, "interrupted\n")
                }
            }
        }
    }

    /// After SIGTERM or SIGHUP: saves the history, closes the session and returns the exit code (128 + signal).
    func terminated(_ editor: LineEditor, _ file: HistoryFile?, _ interpreter: Interpreter) -> Int32? {
        guard Interrupts.shared.terminatingSignal != 0 else { return nil }
        save(editor, file)
        Blocking.run { await interpreter.shutdown() }
        Stdio.writeAll(2, "scimsh: \(Interrupts.shared.stopMessage)\n")
        return Interrupts.shared.exitCode(0)
    }

    func save(_ editor: LineEditor, _ file: HistoryFile?) {
        guard let file else { return }
        do {
            try editor.saveHistory(to: file)
        } catch {
            Stdio.writeAll(2, "scimsh: history not saved: \(error)\n")
        }
    }

    func banner(_ interpreter: Interpreter) -> String {
        var s =
            "scimsh \(SCIMClientVersion.current) — SCIM 2.0 user administration. Type 'help' for commands, Tab to complete, Ctrl-D to leave.\n"
        if let sandbox {
            s +=
                "Connected to the built-in SANDBOX at \(sandbox.baseURL) (\(sandbox.users().count) users; changes are not kept).\n"
            s += "Set host = \"https://…\" and token = $env.ODM_TOKEN to work on a real server.\n"
            s += "New to SCIM? Type 'tutorial' for a guided tour in short lessons.\n"
        } else if let c = interpreter.session.clientConfiguration() {
            let profile = interpreter.session.string("profile").map { " (profile \($0))" } ?? ""
            s += "Server: \(c.baseURL)\(profile)\n"
            if interpreter.session.string("production") == "on" {
                s += "PRODUCTION: every change shows its plan and asks first (confirm_above = 0).\n"
            }
        }
        return s
    }

    func promptText(_ interpreter: Interpreter) -> String {
        let parts = promptParts(interpreter.session)
        guard let production = parts.production else { return "scimsh \(parts.place)> " }
        // A production profile stands out in red (the \u{1}s keep the escapes out of libedit's column count).
        let label = colorPrompt ? "\u{1}\u{1B}[1;31m\u{1}\(production)\u{1}\u{1B}[0m\u{1}" : production
        return "scimsh \(parts.place) \(label)> "
    }

    /// What the prompt shows: the profile name (else the sandbox or host), and a production warning.
    func promptParts(_ session: Session) -> (place: String, production: String?) {
        let user = session.string("user").map { $0 + "@" } ?? ""
        if let profile = session.string("profile") {
            return (user + profile, session.string("production") == "on" ? "[PRODUCTION]" : nil)
        }
        if let sandbox, session.string("host") == "http://\(sandbox.host):\(sandbox.port)" {
            return ("[sandbox]", nil)
        }
        guard let host = session.string("host") else { return ("[no host]", nil) }
        var h = host
        for p in ["https://", "http://"] where h.hasPrefix(p) { h = String(h.dropFirst(p.count)) }
        return (user + h, nil)
    }

    /// Whether the prompt may use colour: a terminal (the REPL runs on one), no NO_COLOR, TERM not dumb.
    var colorPrompt: Bool {
        environment["NO_COLOR"] == nil && environment["TERM"] != "dumb" && Stdio.isTerminal(1)
    }

    func continuationPrompt(_ interpreter: Interpreter) -> String {
        let parts = promptParts(interpreter.session)
        let width = "scimsh \(parts.place)> ".count + (parts.production.map { $0.count + 1 } ?? 0)
        return String(repeating: " ", count: max(0, width - 4)) + "..> "
    }

    /// Sources `$XDG_CONFIG_HOME/scimsh/rc`, else `~/.scimshrc`, when present.
    func runStartupFile(_ interpreter: Interpreter) {
        var candidates: [String] = []
        if let x = environment["XDG_CONFIG_HOME"], !x.isEmpty { candidates.append(x + "/scimsh/rc") }
        if let h = environment["HOME"] {
            candidates.append(h + "/.config/scimsh/rc")
            candidates.append(h + "/.scimshrc")
        }
        for path in candidates where access(path, F_OK) == 0 {
            do {
                let text = try FileText.read(path, regularOnly: true)
                _ = Blocking.run { await interpreter.run(text, name: path) }
            } catch {
                Stdio.writeAll(2, "scimsh: cannot read \(path): \(error.message)\n")
            }
            return
        }
    }
}

/// `record FILE`: appends the statements typed from now on to a replayable script, one statement a line. Statements
/// that set a secret are written as `set token = $env.SCIMSH_TOKEN`, never with the value (judged on the parsed
/// statements, see ``SecretStatements/recordable(_:)``).
final class Recorder {
    let path: String
    let fd: Int32

    struct Failure: Error { var message: String }

    init(path: String) throws(Failure) {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(message: String(cString: strerror(errno))) }
    }

    deinit { close(fd) }

    /// Appends the statements of `text` (which parsed); nothing when it does not parse.
    func record(_ text: String) {
        guard let out = SecretStatements.recordable(text) else { return }
        Stdio.writeAll(fd, out)
    }
}

/// The prompt loop without libedit (used only if libedit cannot start).
struct PlainLoop {
    let interpreter: Interpreter

    func run() -> Int32 {
        var pending = ""
        while true {
            Stdio.writeAll(1, pending.isEmpty ? "scimsh> " : "..> ")
            guard let line = Swift.readLine() else { return 0 }
            let text = pending.isEmpty ? line : pending + "\n" + line
            if interpreter.needsMoreInput(text) {
                pending = text
                continue
            }
            pending = ""
            if text.trimmingWhitespace() == "exit" { return 0 }
            _ = Blocking.run { await interpreter.run(text, name: "<prompt>") }
            if Interrupts.shared.terminatingSignal != 0 {
                // ScimshMain turns the status into 128 + the signal.
                Stdio.writeAll(2, "scimsh: \(Interrupts.shared.stopMessage)\n")
                return 0
            }
        }
    }
}

/// Reads a confirmation answer from the terminal without stdio buffering, giving up when the statement is cancelled.
enum TerminalAnswer {
    /// One line from standard input (without its newline), read a byte at a time so nothing typed after it is
    /// consumed; `nil` on end of input (Ctrl-D), a read error, or when the running task is cancelled (Ctrl-C).
    static func readLine() async -> String? {
        var bytes: [UInt8] = []
        while !Task.isCancelled {
            var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 0)
            if ready < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if ready == 0 {
                // Wait without holding a pool thread in a blocking call, so cancellation is seen promptly.
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            var byte: UInt8 = 0
            let n = read(0, &byte, 1)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return nil
            }
            if n == 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }
}

enum FileSystem {
    static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "." }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
