import Foundation

/// A program running in a real terminal: a private tmux server with one session, driven by keys and read back
/// from the screen.
///
/// Each instance uses its own socket (`tmux -S`) in a fresh temporary directory and an empty configuration, so
/// tests run in parallel without touching a user's tmux. The pane stays after the program exits
/// (`remain-on-exit`), so its exit status can be read. Call ``kill()`` when done (also done on deinit).
///
/// ```swift
/// let tmux = try TmuxSession(command: [scimshPath, "--sandbox"])
/// defer { tmux.kill() }
/// try await tmux.waitFor("scimsh [sandbox]>")
/// try tmux.sendText("fi")
/// try tmux.sendKeys("Tab")
/// try await tmux.waitFor("find ")
/// ```
public final class TmuxSession: Sendable {
    /// The tmux executable used, found on `PATH` (or in `/usr/bin`).
    public static let executable: String? = ChildProcess.executable(named: "tmux")

    /// Whether tmux is installed.
    public static var isAvailable: Bool { executable != nil }

    /// Throws, failing the test, when tmux is not installed: `make test` installs it, so a missing tmux is a
    /// broken setup, not a reason to skip a terminal test.
    public static func require() throws {
        guard isAvailable else { throw TmuxError("tmux is not installed: run make test-deps (make test installs it)") }
    }

    /// The directory holding the socket and configuration, removed by ``kill()``.
    public let directory: URL
    /// The server's socket.
    public let socketPath: String
    /// The session's name, also the target of every command.
    public let sessionName = "test"
    /// The terminal size.
    public let width: Int, height: Int

    /// Starts `command` (program and arguments, not parsed by a shell) in a new detached session of a new tmux
    /// server, `width` × `height` characters, with `environment` added to tmux's own environment (TERM is
    /// set by tmux) and `workingDirectory` as current directory when given.
    public init(
        command: [String],
        environment: [String: String] = [:],
        workingDirectory: String? = nil,
        width: Int = 120,
        height: Int = 40
    ) throws {
        guard Self.executable != nil else { throw TmuxError("tmux is not installed (apt-get install tmux)") }
        guard !command.isEmpty else { throw TmuxError("no command to run") }
        // Unix socket paths are limited to about 100 bytes: keep the directory short.
        let base = URL(fileURLWithPath: "/tmp", isDirectory: true)
        directory = base.appendingPathComponent("tmux-test-\(UUID().uuidString.prefix(12))", isDirectory: true)
        socketPath = directory.appendingPathComponent("socket").path
        self.width = width
        self.height = height
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configuration = directory.appendingPathComponent("tmux.conf")
        let settings = [
            "set-option -g remain-on-exit on",
            "set-option -g status off",
            "set-option -g history-limit 5000",
            "set-option -g escape-time 0",
        ]
        try (settings.joined(separator: "\n") + "\n").write(to: configuration, atomically: true, encoding: .utf8)

        var arguments = ["-f", configuration.path, "new-session", "-d", "-s", sessionName]
        arguments += ["-x", String(width), "-y", String(height)]
        if let workingDirectory { arguments += ["-c", workingDirectory] }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            arguments += ["-e", "\(name)=\(value)"]
        }
        arguments += command
        do {
            try run(arguments)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    deinit {
        kill()
    }

    // MARK: Keys

    /// Types `text` literally (`send-keys -l`): no key names are interpreted.
    public func sendText(_ text: String) throws {
        try run(["send-keys", "-t", sessionName, "-l", text])
    }

    /// Presses keys by tmux name, in order: `"Tab"`, `"Enter"`, `"C-c"`, `"C-d"`, `"Up"`, `"BSpace"`.
    public func sendKeys(_ keys: String...) throws {
        try run(["send-keys", "-t", sessionName] + keys)
    }

    /// Types `text` and presses Enter.
    public func sendLine(_ text: String) throws {
        try sendText(text)
        try sendKeys("Enter")
    }

    // MARK: Screen

    /// The visible screen, one line per row, trailing spaces kept (`capture-pane -p -N`), so a completed word
    /// followed by its space can be told from one without.
    public func screen() throws -> String {
        try run(["capture-pane", "-p", "-N", "-t", sessionName])
    }

    /// The screen plus the scrollback, for output that scrolled away.
    public func screenWithScrollback() throws -> String {
        try run(["capture-pane", "-p", "-N", "-S", "-", "-t", sessionName])
    }

    /// The screen's lines with trailing spaces removed, empty lines at the bottom dropped.
    public func lines() throws -> [String] {
        var rows = try screen().split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.reversed().drop(while: { $0 == " " }).reversed())
        }
        while rows.last?.isEmpty == true { rows.removeLast() }
        return rows
    }

    /// Polls the screen every `interval` until it contains `text` and returns it; throws with the last screen
    /// after `timeout`.
    @discardableResult
    public func waitFor(
        _ text: String,
        timeout: Duration = .seconds(10),
        interval: Duration = .milliseconds(50)
    ) async throws -> String {
        try await waitUntil("the screen shows \(text.debugDescription)", timeout: timeout, interval: interval) {
            $0.contains(text)
        }
    }

    /// Polls the screen until `condition` holds for it and returns it; throws with `description` and the last
    /// screen after `timeout`.
    @discardableResult
    public func waitUntil(
        _ description: String,
        timeout: Duration = .seconds(10),
        interval: Duration = .milliseconds(50),
        _ condition: (String) -> Bool
    ) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var last = ""
        while true {
            last = try screen()
            if condition(last) { return last }
            if clock.now >= deadline { break }
            try await Task.sleep(for: interval)
        }
        throw TmuxError("timed out after \(timeout) waiting until \(description); screen:\n\(last)")
    }

    // MARK: Exit

    /// The program's exit status once it has exited, else `nil`.
    public func exitStatus() throws -> Int32? {
        let output = try run(["display-message", "-p", "-t", sessionName, "#{pane_dead} #{pane_dead_status}"])
        let fields = output.split(whereSeparator: \.isWhitespace)
        guard fields.first == "1" else { return nil }
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// Polls until the program has exited and returns its exit status; throws after `timeout`.
    public func waitForExit(timeout: Duration = .seconds(10)) async throws -> Int32 {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if let status = try exitStatus() { return status }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TmuxError("timed out after \(timeout) waiting for the program to exit; screen:\n\((try? screen()) ?? "")")
    }

    /// Stops the tmux server (and the program) and removes the temporary directory; safe to call twice.
    public func kill() {
        _ = try? run(["kill-server"])
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Running tmux

    /// Runs tmux on this session's socket with `arguments` and returns its standard output.
    ///
    /// The client is started with `posix_spawn` and waited for with `waitpid`, its output going to files, and
    /// every descriptor above 2 closed in it: the server that `new-session` forks inherits the client's
    /// descriptors (a pipe would never reach end-of-file, a test's listening socket would stay open).
    @discardableResult
    public func run(_ arguments: [String]) throws -> String {
        guard let executable = Self.executable else { throw TmuxError("tmux is not installed") }
        let name = UUID().uuidString
        let outputPath = directory.appendingPathComponent("out-\(name)").path
        let errorPath = directory.appendingPathComponent("err-\(name)").path
        defer {
            unlink(outputPath)
            unlink(errorPath)
        }
        let argv = [executable, "-S", socketPath] + arguments
        let pid = try ChildProcess.spawn(argv, stdout: outputPath, stderr: errorPath)
        guard let status = ChildProcess.collect(pid, block: true), status >= 0 else {
            throw TmuxError("cannot wait for \(argv.joined(separator: " ")) to end")
        }
        let output = FileManager.default.contents(atPath: outputPath) ?? Data()
        guard status == 0 else {
            let message = String(decoding: FileManager.default.contents(atPath: errorPath) ?? Data(), as: UTF8.self)
            throw TmuxError("tmux \(arguments.joined(separator: " ")) failed (\(status)): \(message)")
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// A failure driving tmux, with a message that includes the screen when waiting timed out.
public typealias TmuxError = ChildProcessError
