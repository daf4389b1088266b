import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// The interactive shell in a real terminal: the built `scimsh` runs in a private tmux server, keys are sent with
/// `send-keys` and the screen is read back with `capture-pane` (issues 4 and 5).
///
/// Every test gets a fresh home folder (HOME, XDG_STATE_HOME, XDG_CONFIG_HOME) so history and startup files never
/// leak between tests or from the developer's own, a private journal file, and its own tmux socket. Tests poll the
/// screen instead of sleeping, and every wait is bounded.
final class REPLTests: XCTestCase {
    /// The prompt against the embedded sandbox.
    static let prompt = "scimsh [sandbox]> "

    /// This test's private home folder.
    private var home = ""

    override func setUpWithError() throws {
        try TmuxSession.require()
        try E2E.requireBinary(Fixtures.scimshPath)
        home = try Fixtures.temporaryDirectory()
        let directory = home
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
    }

    // MARK: Helpers

    var stateHome: String { home + "/state" }
    var configHome: String { home + "/config" }
    var historyPath: String { stateHome + "/scimsh/history" }

    /// Starts `scimsh arguments` in a new terminal with this test's home; no host means the embedded sandbox. An
    /// empty value in `environment` leaves that variable unset.
    ///
    /// The program runs under `env -u` so variables of the test's own environment (a developer's SCIMSH_HOST or
    /// token, an EDITRC) cannot change what it does.
    ///
    /// With `reportingExit`, a shell runs scimsh and prints `[scimsh exited N]` when it ends (read it with
    /// ``waitForExitLine(_:)``): tmux 3.3a sometimes closes a dead pane's terminal without ever reaping the
    /// program, so `#{pane_dead_status}` (``TmuxSession/waitForExit(timeout:)``) can stay empty for good.
    func launch(
        _ arguments: [String] = [], environment extra: [String: String] = [:], unsetting: [String] = [],
        reportingExit: Bool = false
    ) throws -> TmuxSession {
        var environment = [
            "HOME": home,
            "XDG_STATE_HOME": stateHome,
            "XDG_CONFIG_HOME": configHome,
            "SCIMSH_JOURNAL": home + "/journal.jsonl",
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
        ]
        for (key, value) in extra { environment[key] = value }
        for name in unsetting { environment[name] = nil }
        var command = ["/usr/bin/env"]
        let unset = environment.filter(\.value.isEmpty).map(\.key) + unsetting
        for name in unset { environment[name] = nil }
        for name in ["SCIMSH_HOST", "SCIMSH_TOKEN", "SCIMSH_API_TOKEN", "SCIMSH_PROFILE", "EDITRC", "LC_ALL"] + unset {
            command += ["-u", name]
        }
        command += environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        command += [Fixtures.scimshPath] + arguments
        if reportingExit {
            // `trap : INT TERM HUP` keeps the shell alive on Ctrl-C (and on the SIGTERM libedit passes on to the
            // process group) while scimsh (which gets the default disposition back on exec) handles it.
            command = ["/bin/sh", "-c", "trap : INT TERM HUP; \"$@\"; echo \"[scimsh exited $?]\"", "sh"] + command
        }
        let tmux = try TmuxSession(command: command, width: 120, height: 40)
        addTeardownBlock { tmux.kill() }
        return tmux
    }

    /// Starts scimsh against the embedded sandbox and waits for its first prompt.
    func launchSandboxShell(_ arguments: [String] = [], reportingExit: Bool = false) async throws -> TmuxSession {
        let tmux = try launch(arguments, reportingExit: reportingExit)
        try await waitForPrompt(tmux, timeout: .seconds(15))
        return tmux
    }

    /// Polls until the shell started with `reportingExit` prints scimsh's exit status, and returns it.
    func waitForExitLine(_ tmux: TmuxSession, timeout: Duration = .seconds(10)) async throws -> Int32 {
        let screen = try await tmux.waitUntil("scimsh exited", timeout: timeout) { $0.contains("[scimsh exited ") }
        let line = rows(screen).first { $0.hasPrefix("[scimsh exited ") } ?? ""
        guard let status = Int32(line.dropFirst("[scimsh exited ".count).dropLast()) else {
            throw TmuxError("cannot read the exit status from \(line.debugDescription)")
        }
        return status
    }

    /// Whether the program in the pane still runs (`#{pane_dead}` is 0).
    func isRunning(_ tmux: TmuxSession) throws -> Bool {
        try tmux.run(["display-message", "-p", "-t", tmux.sessionName, "#{pane_dead}"]).hasPrefix("0")
    }

    /// The row the cursor is on and its column (from tmux), to tell `find ` from `find` after Tab: libedit may
    /// overwrite old text with spaces, so trailing spaces on the screen do not say where the input ends.
    func cursor(_ tmux: TmuxSession) throws -> (x: Int, y: Int) {
        let output = try tmux.run(["display-message", "-p", "-t", tmux.sessionName, "#{cursor_x} #{cursor_y}"])
        let fields = output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard fields.count == 2 else { throw TmuxError("unexpected cursor position \(output.debugDescription)") }
        return (fields[0], fields[1])
    }

    /// The screen row the cursor is on, trailing spaces removed.
    func cursorLine(_ tmux: TmuxSession) throws -> String {
        let position = try cursor(tmux)
        let rows = try tmux.screen().split(separator: "\n", omittingEmptySubsequences: false)
        guard position.y < rows.count else { return "" }
        return String(rows[position.y].reversed().drop(while: { $0 == " " }).reversed())
    }

    /// Polls until the line being edited reads `prompt + input` with the cursor right after it (so a trailing
    /// space in `input` is checked too).
    func waitForInput(
        _ tmux: TmuxSession, _ input: String, prompt: String = REPLTests.prompt, timeout: Duration = .seconds(10)
    ) async throws {
        let expected = prompt + input
        let trimmed = String(expected.reversed().drop(while: { $0 == " " }).reversed())
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var last = ("", -1)
        while true {
            let position = try cursor(tmux)
            let line = try cursorLine(tmux)
            last = (line, position.x)
            if line == trimmed, position.x == expected.count { return }
            if clock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TmuxError(
            "timed out waiting for the input line \(expected.debugDescription) (cursor at \(expected.count)); "
                + "line: \(last.0.debugDescription), cursor at \(last.1); screen:\n\(try tmux.screen())")
    }

    /// Polls until the last line on the screen is the empty prompt (the shell waits for input).
    @discardableResult
    func waitForPrompt(
        _ tmux: TmuxSession, _ prompt: String = REPLTests.prompt, timeout: Duration = .seconds(10)
    ) async throws -> String {
        let bare = String(prompt.reversed().drop(while: { $0 == " " }).reversed())
        return try await tmux.waitUntil("the last line is the prompt \(bare.debugDescription)", timeout: timeout) {
            screen in
            lastLine(screen) == bare
        }
    }

    /// Types `line`, presses Enter and waits until the output ends with the next empty prompt; returns the
    /// output lines printed after the typed line.
    @discardableResult
    func run(_ tmux: TmuxSession, _ line: String, timeout: Duration = .seconds(10)) async throws -> [String] {
        let marker = REPLTests.prompt + line
        let before = try rows(tmux.screenWithScrollback()).filter { $0 == marker }.count
        try tmux.sendLine(line)
        let screen = try await waitUntilScrollback(tmux, "\(line.debugDescription) ran and the prompt is back", timeout)
        { screen in
            let all = rows(screen)
            return all.filter { $0 == marker }.count > before && all.last == rows(REPLTests.prompt).first
        }
        let all = rows(screen)
        guard let index = all.lastIndex(of: marker) else { return [] }
        return Array(all[(index + 1)..<(all.count - 1)])
    }

    /// Like `TmuxSession.waitUntil`, over the screen and its scrollback.
    @discardableResult
    func waitUntilScrollback(
        _ tmux: TmuxSession, _ description: String, _ timeout: Duration = .seconds(10), _ condition: (String) -> Bool
    ) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var last = ""
        while true {
            last = try tmux.screenWithScrollback()
            if condition(last) { return last }
            if clock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TmuxError("timed out after \(timeout) waiting until \(description); screen:\n\(last)")
    }

    // MARK: Start, banner, help, leaving

    func testBannerSaysSandboxAndHelpListsCommands() async throws {
        let tmux = try await launchSandboxShell()
        let screen = try tmux.screen()
        XCTAssertTrue(screen.contains("SANDBOX"), "banner:\n\(screen)")
        XCTAssertTrue(screen.contains("Type 'help' for commands"), screen)
        let help = try await run(tmux, "help").joined(separator: "\n")
        for command in ["find", "get", "patch", "delete", "count", "where", "select", "undo", "set NAME = VALUE"] {
            XCTAssertTrue(help.contains(command), "help does not list \(command):\n\(help)")
        }
    }

    func testControlDExitsWithStatusZero() async throws {
        let tmux = try await launchSandboxShell(reportingExit: true)
        try await run(tmux, "echo before-leaving")
        try tmux.sendKeys("C-d")
        let status = try await waitForExitLine(tmux)
        XCTAssertEqual(status, 0)
    }

    func testControlDWithTextOnLineDoesNotExit() async throws {
        let tmux = try await launchSandboxShell()
        // Ctrl-D deletes the character under the cursor when the line is not empty; it only leaves on an empty line.
        try tmux.sendText("echo abc")
        try tmux.sendKeys("Left", "C-d")
        try await waitForInput(tmux, "echo ab")
        XCTAssertTrue(try isRunning(tmux))
    }

    func testExitLeavesWithStatusZero() async throws {
        let tmux = try await launchSandboxShell(reportingExit: true)
        try tmux.sendLine("exit")
        let status = try await waitForExitLine(tmux)
        XCTAssertEqual(status, 0)
    }

    // MARK: Tab completion

    func testTabCompletesCommand() async throws {
        let tmux = try await launchSandboxShell()
        // `fi` starts both `find` and `first`: Tab lists them and keeps the line.
        try tmux.sendText("fi")
        try tmux.sendKeys("Tab")
        try await tmux.waitUntil("Tab lists find and first") { screen in
            rows(screen).contains { $0.split(separator: " ").map(String.init) == ["find", "first"] }
        }
        try await waitForInput(tmux, "fi")
        // One more letter makes it unique: Tab completes the word and adds a space.
        try tmux.sendText("n")
        try tmux.sendKeys("Tab")
        try await waitForInput(tmux, "find ")
    }

    func testTabCompletesAttributeAfterFind() async throws {
        let tmux = try await launchSandboxShell()
        try tmux.sendText("find userN")
        try tmux.sendKeys("Tab")
        try await waitForInput(tmux, "find userName ")
    }

    func testTabCompletesOperatorAfterAttribute() async throws {
        let tmux = try await launchSandboxShell()
        try tmux.sendText("find userName e")
        try tmux.sendKeys("Tab")
        // Either completed outright, or the candidates `eq ew` listed below an unchanged line.
        let screen = try await tmux.waitUntil("Tab offers eq") { screen in
            let listed = rows(screen).contains { $0.split(separator: " ").map(String.init) == ["eq", "ew"] }
            return listed || rows(screen).last == REPLTests.prompt + "find userName eq"
        }
        if rows(screen).last != REPLTests.prompt + "find userName eq" {
            try await waitForInput(tmux, "find userName e")
            try tmux.sendText("q")
            try tmux.sendKeys("Tab")
        }
        try await waitForInput(tmux, "find userName eq ")
    }

    func testTabCompletesVariable() async throws {
        let tmux = try await launchSandboxShell()
        try await run(tmux, "set myvar = 1")
        try tmux.sendText("echo $myv")
        try tmux.sendKeys("Tab")
        // No space after a variable, by design: `$rows.userName` may follow.
        try await waitForInput(tmux, "echo $myvar")
        try tmux.sendKeys("Enter")
        let lines = try await waitForPrompt(tmux)
        XCTAssertTrue(rows(lines).contains("1"), lines)
    }

    func testTabCompletesUserIdSeenEarlier() async throws {
        let tmux = try await launchSandboxShell()
        let output = try await run(tmux, "find userName eq \"bjensen\"")
        XCTAssertTrue(output.contains { $0.hasPrefix("2819c223-7f76-453a-919d-413861904646") }, "\(output)")
        try tmux.sendText("get 2819")
        try tmux.sendKeys("Tab")
        try await waitForInput(tmux, "get 2819c223-7f76-453a-919d-413861904646 ")
        // And the completed line runs.
        try tmux.sendKeys("Enter")
        try await waitUntilScrollback(tmux, "get printed bjensen") { screen in
            let all = rows(screen)
            return all.last == rows(REPLTests.prompt).first && all.suffix(4).contains { $0.contains("bjensen") }
        }
    }

    /// Nothing seen yet: Tab asks the server once (ODM: one page, matched here) and completes the userName.
    func testTabCompletesUserNameFromTheServerWithNothingSeen() async throws {
        let tmux = try await launchSandboxShell()
        try tmux.sendText(#"find userName eq "alice."#)
        try tmux.sendKeys("Tab")
        try await waitForInput(tmux, #"find userName eq "alice.martin" "#)
    }

    /// The sandbox is ODM: a filter `find` sends is offered only `eq` (and `and`), so Tab completes it outright.
    func testTabOffersODMOperatorsOnlyInFind() async throws {
        let tmux = try await launchSandboxShell()
        try tmux.sendText("find userName ")
        try tmux.sendKeys("Tab")
        try await waitForInput(tmux, "find userName eq ")
        try tmux.sendText(#""bjensen" "#)
        try tmux.sendKeys("Tab")
        try await waitForInput(tmux, #"find userName eq "bjensen" and "#)
    }

    /// The same lookup completes ids after `get`.
    func testTabCompletesIdFromTheServerWithNothingSeen() async throws {
        let tmux = try await launchSandboxShell()
        try tmux.sendText("get 7e2f")
        try tmux.sendKeys("Tab")
        try await waitForInput(tmux, "get 7e2f9a14-6c3d-4b8e-a1f0-3c5d7e9b2a02 ")
    }

    /// Group names seen in this session (here listed by `groups`) complete after a stage that takes a group.
    func testTabCompletesAGroupNameSeenAfterMembers() async throws {
        let tmux = try await launchSandboxShell()
        let output = try await run(tmux, "groups | select displayName")
        XCTAssertTrue(output.contains { $0.contains("Data Stewards") }, "\(output)")
        try tmux.sendText("members Engi")
        try tmux.sendKeys("Tab")
        try await waitForInput(tmux, "members Engineering ")
        try tmux.sendKeys("C-u")
        try tmux.sendText("remove-from Data")
        try tmux.sendKeys("Tab")
        try await waitForInput(tmux, "remove-from \"Data Stewards\" ")
    }

    /// A slow server never holds the prompt: Tab gives up after a moment and completes nothing.
    func testTabIsSilentWhenTheServerIsSlow() async throws {
        let server = try await Fixtures.sandbox { $0.latency = .seconds(5) }
        addTeardownBlock { await server.stop() }
        let tmux = try launch(["--host", E2E.hostURL(server)], environment: E2E.tokenEnvironment(server))
        let hostPrompt = "scimsh \(server.host):\(server.port)> "
        try await waitForPrompt(tmux, hostPrompt, timeout: .seconds(15))
        try tmux.sendText("get 7e2f")
        let clock = ContinuousClock()
        let start = clock.now
        try tmux.sendKeys("Tab")
        try tmux.sendText("x")
        try await waitForInput(tmux, "get 7e2fx", prompt: hostPrompt, timeout: .seconds(4))
        XCTAssertLessThan(clock.now - start, .seconds(3), "Tab waited for the slow server")
    }

    // MARK: History

    func testUpRecallsLineFromPreviousSession() async throws {
        let first = try await launchSandboxShell(reportingExit: true)
        let output = try await run(first, "echo remembered-across-sessions")
        XCTAssertEqual(output, ["remembered-across-sessions"])
        try first.sendKeys("C-d")
        let status = try await waitForExitLine(first)
        XCTAssertEqual(status, 0)
        first.kill()

        let second = try await launchSandboxShell()
        try second.sendKeys("Up")
        try await waitForInput(second, "echo remembered-across-sessions")
        try second.sendKeys("Enter")
        try await waitForPrompt(second)
        XCTAssertEqual(rows(try second.screen()).filter { $0 == "remembered-across-sessions" }.count, 1)
    }

    func testSecretLineNeverReachesHistoryFile() async throws {
        let tmux = try await launchSandboxShell()
        try await run(tmux, "set token = secret-value-123")
        try await run(tmux, "echo after-the-secret")
        // History is saved after every line, so the file is complete while the shell still runs.
        let text = try String(contentsOfFile: historyPath, encoding: .utf8)
        XCTAssertTrue(text.contains("echo after-the-secret"), "history file:\n\(text)")
        XCTAssertFalse(text.contains("secret-value-123"), "history file holds the secret:\n\(text)")
        XCTAssertFalse(text.contains("set token"), "history file:\n\(text)")
        let attributes = try FileManager.default.attributesOfItem(atPath: historyPath)
        let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
        XCTAssertEqual(mode & 0o777, 0o600, "history file mode is \(String(mode, radix: 8))")

        // Not in the in-memory history either: `history` does not list it.
        let listed = try await run(tmux, "history").joined(separator: "\n")
        XCTAssertTrue(listed.contains("echo after-the-secret"), listed)
        XCTAssertFalse(listed.contains("secret-value-123"), listed)
    }

    /// Types a statement split over two lines with a `\` continuation and waits for the next prompt.
    func runContinued(_ tmux: TmuxSession, _ first: String, _ second: String) async throws {
        try tmux.sendLine(first + " \\")
        try await tmux.waitUntil("the continuation prompt") { lastLine($0).hasSuffix("..>") }
        try tmux.sendLine(second)
        try await waitForPrompt(tmux)
    }

    /// Secrecy is judged on the parsed statement: a `set token` continued over lines, or after another statement,
    /// reaches neither the history file nor `history`.
    func testContinuedSecretLinesNeverReachHistory() async throws {
        let tmux = try await launchSandboxShell()
        try await runContinued(tmux, "set token", #"= "secret-cont-111""#)
        try await runContinued(tmux, "set", #"token = "secret-cont-222""#)
        try await run(tmux, #"echo $host; set api_token = "secret-cont-333""#)
        try await run(tmux, "echo after-the-secrets")
        let text = try String(contentsOfFile: historyPath, encoding: .utf8)
        XCTAssertTrue(text.contains("echo after-the-secrets"), "history file:\n\(text)")
        XCTAssertFalse(text.contains("secret-cont"), "history file holds a secret:\n\(text)")
        let listed = try await run(tmux, "history").joined(separator: "\n")
        XCTAssertTrue(listed.contains("echo after-the-secrets"), listed)
        XCTAssertFalse(listed.contains("secret-cont"), listed)
    }

    // MARK: Ctrl-C

    func testControlCAtPromptClearsLine() async throws {
        let tmux = try await launchSandboxShell()
        try tmux.sendText("find userName eq \"nobody\"")
        try await waitForInput(tmux, "find userName eq \"nobody\"")
        try tmux.sendKeys("C-c")
        try await waitForInput(tmux, "")
        // The abandoned text is gone: what runs next is only what is typed now.
        let output = try await run(tmux, "echo ok")
        XCTAssertEqual(output, ["ok"])
        XCTAssertTrue(try isRunning(tmux))
    }

    func testControlCCancelsLongPipelineAndSessionContinues() async throws {
        let server = try await Fixtures.sandbox(generatedUsers: 300) { $0.latency = .milliseconds(50) }
        addTeardownBlock { await server.stop() }
        let total = server.users().count
        let tmux = try launch(
            ["--host", E2E.hostURL(server)], environment: E2E.tokenEnvironment(server))
        let hostPrompt = "scimsh \(server.host):\(server.port)> "
        try await waitForPrompt(tmux, hostPrompt, timeout: .seconds(15))
        try tmux.sendLine("set concurrency = 1")
        try await tmux.waitUntil("set ran") { screen in
            lastLine(screen) == lastLine(hostPrompt) && screen.contains("set concurrency = 1")
        }
        try tmux.sendLine("find | patch displayName=\"x\"")
        try await tmux.waitFor("users? [y/N]", timeout: .seconds(15))
        try tmux.sendLine("y")
        // Ctrl-C only once the pipeline visibly runs (a key typed ahead of an interrupt is discarded).
        try await tmux.waitUntil("the patch makes progress", timeout: .seconds(15)) { screen in
            screen.contains("patched ") || screen.contains("0000-4000-8000-")
        }
        try tmux.sendKeys("C-c")
        try await tmux.waitUntil("interrupted, prompt back", timeout: .seconds(10)) { screen in
            rows(screen).contains("interrupted") && lastLine(screen) == lastLine(hostPrompt)
        }
        XCTAssertTrue(try isRunning(tmux), "Ctrl-C ended the process")
        let patched = server.users().filter { $0["displayName"]?.stringValue == "x" }.count
        XCTAssertGreaterThan(patched, 0)
        XCTAssertLessThan(patched, total, "the pipeline was not cancelled")

        try tmux.sendLine("echo ok")
        try await tmux.waitUntil("echo ran") { screen in
            let all = rows(screen)
            return all.count >= 2 && all[all.count - 2] == "ok" && lastLine(screen) == lastLine(hostPrompt)
        }
        // No more writes after the prompt came back (at most the one request in flight at Ctrl-C lands late).
        let after = server.users().filter { $0["displayName"]?.stringValue == "x" }.count
        XCTAssertLessThanOrEqual(after, patched + 1, "writes continued after Ctrl-C")
    }

    /// SIGTERM at the prompt saves the history and leaves with 143 (see SafetyCLITests for a running statement).
    func testSIGTERMAtThePromptSavesHistoryAndExits143() async throws {
        let tmux = try await launchSandboxShell(reportingExit: true)
        try await run(tmux, "echo before-sigterm")
        let shell = try tmux.run(["display-message", "-p", "-t", tmux.sessionName, "#{pane_pid}"])
        let children = try Fixtures.run(
            "/usr/bin/pgrep", ["-P", shell.trimmingCharacters(in: .whitespacesAndNewlines)])
        let pid = try XCTUnwrap(Int32(children.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), children.stdout)
        kill(pid, SIGTERM)
        let status = try await waitForExitLine(tmux)
        XCTAssertEqual(status, 143)
        let screen = try tmux.screen()
        XCTAssertTrue(screen.contains("scimsh: terminated by SIGTERM"), screen)
        let history = try String(contentsOfFile: historyPath, encoding: .utf8)
        XCTAssertTrue(history.contains("echo before-sigterm"), history)
    }

    // MARK: Multi-line input

    func testMultiLinePipelineWithContinuationPrompt() async throws {
        let tmux = try await launchSandboxShell()
        let expected = try await run(tmux, "find | count")
        let count = expected.first { $0.allSatisfy(\.isNumber) && !$0.isEmpty }
        XCTAssertNotNil(count, "\(expected)")
        try tmux.sendLine("find |")
        try await tmux.waitUntil("the continuation prompt") { screen in
            lastLine(screen).hasSuffix("..>")
        }
        let continuation = try cursorLine(tmux) + " "
        XCTAssertFalse(continuation.hasPrefix("scimsh"), continuation)
        try tmux.sendLine("count")
        let screen = try await waitForPrompt(tmux)
        let all = rows(screen)
        guard let index = all.lastIndex(of: continuation + "count") else {
            return XCTFail("no continuation line in:\n\(screen)")
        }
        XCTAssertEqual(all[(index + 1)...].first { $0.allSatisfy(\.isNumber) && !$0.isEmpty }, count, screen)
    }

    // MARK: Confirmation (issue 5)

    func testConfirmationNoChangesNothingAndYesApplies() async throws {
        let tmux = try await launchSandboxShell()
        try tmux.sendLine("find | patch displayName=\"y\"")
        try await tmux.waitUntil("the confirmation question") { screen in
            lastLine(screen).hasPrefix("apply to ") && lastLine(screen).hasSuffix("users? [y/N]")
        }
        try tmux.sendLine("n")
        try await waitForPrompt(tmux)
        let none = try await run(tmux, "find displayName eq \"y\" | count")
        XCTAssertEqual(none.first { $0.allSatisfy(\.isNumber) && !$0.isEmpty }, "0", "\(none)")

        try tmux.sendLine("find | patch displayName=\"y\"")
        try await tmux.waitUntil("the confirmation question again") { screen in
            lastLine(screen).hasPrefix("apply to ") && lastLine(screen).hasSuffix("users? [y/N]")
        }
        let question = lastLine(try tmux.screen())
        let asked = Int(question.split(separator: " ")[2]) ?? -1
        XCTAssertGreaterThan(asked, 1, question)
        try tmux.sendLine("y")
        try await waitForPrompt(tmux)
        let all = try await run(tmux, "find displayName eq \"y\" | count")
        XCTAssertEqual(all.first { $0.allSatisfy(\.isNumber) && !$0.isEmpty }, String(asked), "\(all)")
    }

    func testControlCAtConfirmationCancelsAndKeepsNextLine() async throws {
        let tmux = try await launchSandboxShell()
        try tmux.sendLine("find | patch displayName=\"q\"")
        try await tmux.waitUntil("the confirmation question") { screen in
            lastLine(screen).hasSuffix("users? [y/N]")
        }
        try tmux.sendKeys("C-c")
        try await waitForPrompt(tmux)
        // The line typed next is a statement again, not the answer to the question.
        let output = try await run(tmux, "echo ok")
        XCTAssertEqual(output, ["ok"])
        let none = try await run(tmux, "find displayName eq \"q\" | count")
        XCTAssertEqual(none.first { $0.allSatisfy(\.isNumber) && !$0.isEmpty }, "0", "\(none)")
    }

    // MARK: record

    func testRecordWritesSecretsAsEnvironmentReferences() async throws {
        let tmux = try await launchSandboxShell()
        let script = home + "/session.scim"
        try await run(tmux, "record \(script)")
        try await run(tmux, "echo recorded-line")
        try await run(tmux, "set token = abc")
        try await run(tmux, "record off")
        try await run(tmux, "echo not-recorded")
        let text = try String(contentsOfFile: script, encoding: .utf8)
        XCTAssertTrue(text.contains("echo recorded-line"), text)
        XCTAssertTrue(text.contains("set token = $env.SCIMSH_TOKEN"), text)
        XCTAssertFalse(text.contains("abc"), text)
        XCTAssertFalse(text.contains("not-recorded"), text)
        XCTAssertFalse(text.contains("record "), "record itself is not a replayable statement:\n\(text)")
    }

    func testRecordWritesNoSecretOfAContinuedOrSecondStatement() async throws {
        let tmux = try await launchSandboxShell()
        let script = home + "/session.scim"
        try await run(tmux, "record \(script)")
        try await run(tmux, #"echo $host; set token = "secret-rec-111""#)
        try await runContinued(tmux, "set token", #"= "secret-rec-222""#)
        try await runContinued(tmux, "set", #"api_token = "secret-rec-333""#)
        try await run(tmux, "record off")
        let text = try String(contentsOfFile: script, encoding: .utf8)
        XCTAssertFalse(text.contains("secret-rec"), text)
        XCTAssertEqual(
            text,
            """
            echo $host
            set token = $env.SCIMSH_TOKEN
            set token = $env.SCIMSH_TOKEN
            set api_token = $env.SCIMSH_API_TOKEN

            """)
    }

    // MARK: Startup file

    func testStartupFileInConfigHomeIsSourced() async throws {
        try writeFile(configHome + "/scimsh/rc", "set output = json\n")
        let tmux = try await launchSandboxShell()
        let output = try await run(tmux, "find --limit 1").joined(separator: "\n")
        XCTAssertTrue(output.contains("\"userName\""), "not JSON:\n\(output)")
    }

    func testHomeScimshrcIsSourced() async throws {
        try writeFile(home + "/.scimshrc", "set output = json\n")
        let tmux = try await launchSandboxShell()
        let output = try await run(tmux, "find --limit 1").joined(separator: "\n")
        XCTAssertTrue(output.contains("\"userName\""), "not JSON:\n\(output)")
    }

    func testNorcSkipsStartupFile() async throws {
        try writeFile(configHome + "/scimsh/rc", "set output = json\n")
        try writeFile(home + "/.scimshrc", "set output = json\n")
        let tmux = try await launchSandboxShell(["--norc"])
        let output = try await run(tmux, "find --limit 1").joined(separator: "\n")
        XCTAssertFalse(output.contains("\"userName\""), "JSON despite --norc:\n\(output)")
        XCTAssertTrue(output.contains("userName"), output)
    }

    /// A FIFO as startup file is refused with a message instead of blocking the prompt (no writer ever comes).
    func testFIFOStartupFileIsRefusedAndThePromptComes() async throws {
        try FileManager.default.createDirectory(atPath: configHome + "/scimsh", withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(configHome + "/scimsh/rc", 0o600), 0)
        let tmux = try await launchSandboxShell()
        // Long lines wrap at the pane's width.
        let screen = try tmux.screen().split(separator: "\n").joined()
        XCTAssertTrue(
            screen.contains("scimsh: cannot read \(configHome)/scimsh/rc: it is not a regular file"), screen)
        let output = try await run(tmux, "echo alive")
        XCTAssertEqual(output, ["alive"])
    }

    /// A sandbox session journals to a fresh file in a private folder made for it (no predictable name another
    /// user could plant a link at), removed with the folder at exit.
    func testSandboxJournalIsAFreshFileInAPrivateFolder() async throws {
        let temporary = home + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let tmux = try launch(
            ["--sandbox"], environment: ["SCIMSH_JOURNAL": "", "TMPDIR": temporary], reportingExit: true)
        try await waitForPrompt(tmux, timeout: .seconds(15))
        try await run(tmux, #"find userName eq "bjensen" | patch displayName="Journaled""#)
        let folders = try FileManager.default.contentsOfDirectory(atPath: temporary)
        XCTAssertEqual(folders.count, 1, "\(folders)")
        let folder = temporary + "/" + (folders.first ?? "")
        XCTAssertTrue(folders.first?.hasPrefix("scimsh-sandbox-") == true, "\(folders)")
        let mode = (try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o700)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["journal.jsonl"])
        let journal = try String(contentsOfFile: folder + "/journal.jsonl", encoding: .utf8)
        XCTAssertTrue(journal.contains("Journaled"), journal)
        try tmux.sendLine("exit")
        let status = try await waitForExitLine(tmux)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporary), [], "removed at exit")
    }

    // MARK: Terminal escapes from the server

    /// An error detail and CSV cells from the server reach a terminal with their escape sequences shown, not
    /// obeyed (the sandbox echoes a duplicate externalId in its 409 detail).
    func testServerTextCannotSendEscapesToTheTerminal() async throws {
        let server = try await Fixtures.sandbox()
        addTeardownBlock { await server.stop() }
        let hostile = "\u{1B}]0;pwned\u{07}\u{1B}[2J"
        let data = home + "/data"
        try writeFile(data + "/a.csv", "id,externalId\n2819c223-7f76-453a-919d-413861904646,\(hostile)\n")
        try writeFile(data + "/b.csv", "id,externalId\n5d8a1c52-3b0e-4c1a-9f6e-2a7b9d4e1f01,\(hostile)\n")
        let script = """
            import \(data)/a.csv | patch externalId | count | table
            set on_error = continue
            import \(data)/b.csv | patch externalId | count
            find userName eq "bjensen" | csv userName externalId
            """
        try writeFile(data + "/s.scim", script)
        let tmux = try launch(
            ["--host", E2E.hostURL(server), data + "/s.scim"], environment: E2E.tokenEnvironment(server),
            reportingExit: true)
        let status = try await waitForExitLine(tmux, timeout: .seconds(20))
        let screen = try tmux.screen()
        XCTAssertEqual(status, 1, screen)
        // The first statement's count, printed before any escape: `ESC[2J` would have cleared it. (Not its first
        // line: tmux may not show a pane's first row in time.)
        XCTAssertTrue(screen.contains("count\n-----\n1\n"), "the screen was cleared:\n\(screen)")
        XCTAssertTrue(screen.contains("externalId '␛]0;pwned␇␛[2J'"), "the error line:\n\(screen)")
        XCTAssertTrue(screen.contains("bjensen,␛]0;pwned␇␛[2J"), "the CSV line:\n\(screen)")
    }

    func writeFile(_ path: String, _ text: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// The screen's rows with trailing spaces removed and the empty rows at the bottom dropped.
private func rows(_ screen: String) -> [String] {
    var rows = screen.split(separator: "\n", omittingEmptySubsequences: false).map {
        String($0.reversed().drop(while: { $0 == " " }).reversed())
    }
    while rows.last?.isEmpty == true { rows.removeLast() }
    return rows
}

/// The last non-empty row of the screen.
private func lastLine(_ screen: String) -> String {
    rows(screen).last ?? ""
}
