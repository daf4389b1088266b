import Foundation
import SCIMClient
import SCIMCore

#if canImport(Glibc)
    import Glibc
#endif

/// A program a test starts in the background (a proxy, a server binary), with its output in files.
///
/// It is started with `posix_spawn`, an empty signal mask and default signal dispositions (threads of Swift's
/// concurrency pool block signals, and a child would inherit that and ignore SIGTERM), standard input from
/// /dev/null and no descriptor of the test process but 0–2. ``stop()`` ends it (SIGTERM, then SIGKILL); so does
/// deinit, so a failing test leaves nothing running.
///
/// ```swift
/// let server = try ChildProcess.start([Fixtures.scimshPath, "sandbox", "--port", "0"], in: directory)
/// defer { server.stop() }
/// let banner = try await server.waitForOutput(containing: "Stop with Ctrl-C.")
/// ```
public final class ChildProcess: Sendable {
    /// The process id.
    public let pid: pid_t
    /// The file that receives the program's standard output.
    public let stdoutPath: String
    /// The file that receives the program's standard error.
    public let stderrPath: String
    /// The exit status once collected (0–255, or 128 + signal number when a signal ended it).
    private let status = LockedValue<Int32?>(nil)

    private init(pid: pid_t, stdoutPath: String, stderrPath: String) {
        self.pid = pid
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
    }

    deinit { stop() }

    /// Starts `argv` (an absolute executable path first) with its output in `stdout.txt` and `stderr.txt` of
    /// `directory` (`name`-prefixed when given, so several processes can share a folder).
    ///
    /// - Parameter environment: the environment; `nil` passes the test process's own.
    public static func start(
        _ argv: [String], in directory: String, name: String = "", environment: [String: String]? = nil
    ) throws -> ChildProcess {
        let prefix = directory + "/" + (name.isEmpty ? "" : name + "-")
        let pid = try spawn(
            argv, stdout: prefix + "stdout.txt", stderr: prefix + "stderr.txt", environment: environment)
        return ChildProcess(pid: pid, stdoutPath: prefix + "stdout.txt", stderrPath: prefix + "stderr.txt")
    }

    /// What the program has written to standard output so far.
    public func stdout() -> String { Self.read(stdoutPath) }

    /// What the program has written to standard error so far.
    public func stderr() -> String { Self.read(stderrPath) }

    /// Whether the program still runs (collects its exit status when it has ended).
    public var isRunning: Bool { exitStatus == nil }

    /// The exit status if the program has ended (0–255, or 128 + signal number), else `nil`; never blocks.
    public var exitStatus: Int32? {
        status.withLock { status in
            if status == nil, let ended = Self.collect(pid, block: false) { status = ended }
            return status
        }
    }

    /// Waits until standard output contains `text` and returns it; throws when the program exits first or
    /// `timeout` passes (the error shows both outputs).
    public func waitForOutput(containing text: String, timeout: Duration = .seconds(10)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            let out = stdout()
            if out.contains(text) { return out }
            if let status = exitStatus {
                throw ChildProcessError(
                    "the program exited with \(status) before printing \(text.debugDescription)\n"
                        + "stdout:\n\(out)\nstderr:\n\(stderr())")
            }
            guard ContinuousClock.now < deadline else {
                throw ChildProcessError(
                    "no \(text.debugDescription) within \(timeout)\nstdout:\n\(out)\nstderr:\n\(stderr())")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits at most `timeout` for the program to end by itself; returns its status, or `nil` if it still runs.
    public func waitForExit(timeout: Duration = .seconds(10)) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exitStatus { return status }
            try await Task.sleep(for: .milliseconds(10))
        }
        return exitStatus
    }

    /// Sends `signal` to the program (nothing once it has ended and been collected).
    public func send(_ signal: Int32) {
        status.withLock { status in
            if status == nil { _ = kill(pid, signal) }
        }
    }

    /// Ends the program: SIGTERM, and SIGKILL if it is still running a second later; returns its exit status.
    /// Calling it again returns the same status.
    @discardableResult
    public func stop() -> Int32 {
        status.withLock { status in
            if let status { return status }
            if let ended = Self.collect(pid, block: false) {
                status = ended
                return ended
            }
            _ = kill(pid, SIGTERM)
            for _ in 0..<100 {
                if let ended = Self.collect(pid, block: false) {
                    status = ended
                    return ended
                }
                usleep(10_000)
            }
            _ = kill(pid, SIGKILL)
            let ended = Self.collect(pid, block: true) ?? -1
            status = ended
            return ended
        }
    }

    // MARK: Spawning, shared with TmuxSession

    /// Starts `argv` with standard input from /dev/null and output to the files `stdout` and `stderr` (created
    /// or truncated, mode 0600); see the type's description for the signal state. Returns the process id.
    static func spawn(
        _ argv: [String], stdout: String, stderr: String, environment: [String: String]? = nil
    ) throws -> pid_t {
        guard let executable = argv.first else { throw ChildProcessError("no program to start") }
        var actions = SpawnSetup.blankActions
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        for descriptor in SpawnSetup.openDescriptors() where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        var attributes = SpawnSetup.blankAttributes
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        SpawnSetup.resetSignals(&attributes)
        let variables = environment ?? ProcessInfo.processInfo.environment
        var cArguments = argv.map { strdup($0) } + [nil]
        var cEnvironment = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, &cArguments, &cEnvironment)
        guard result == 0 else {
            throw ChildProcessError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// The exit status of `pid` (0–255, or 128 + signal number) once it has ended, -1 if it is not a child to
    /// wait for (already collected); `nil` while it runs (`block` false).
    static func collect(_ pid: pid_t, block: Bool) -> Int32? {
        var raw: Int32 = 0
        while true {
            let result = waitpid(pid, &raw, block ? 0 : WNOHANG)
            if result == pid { break }
            if result == 0 { return nil }
            if errno != EINTR { return -1 }
        }
        let signal = raw & 0x7F
        return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
    }

    private static func read(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }

    /// The first executable called `name` on `PATH` (then in /usr/bin, /usr/local/bin and /usr/sbin).
    public static func executable(named name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Loopback TCP ports for programs that need a port number up front (a proxy's configuration file).
public enum LoopbackPort {
    /// A port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed). Another process may
    /// take it before the caller binds it, so a caller retries with a new port when binding fails.
    public static func free() throws -> Int {
        let fd = try tcpSocket()
        defer { close(fd) }
        guard let port = bindAnyPort(fd, listening: false) else {
            throw ChildProcessError("cannot bind 127.0.0.1:0: \(String(cString: strerror(errno)))")
        }
        return port
    }

    /// A new TCP socket.
    static func tcpSocket() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ChildProcessError("socket() failed: \(String(cString: strerror(errno)))") }
        return fd
    }

    /// Binds `fd` to a free port of 127.0.0.1 (and listens, if `listening`); the port, or `nil` (see `errno`).
    static func bindAnyPort(_ fd: Int32, listening: Bool) -> Int? {
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && (!listening || listen(fd, 128) == 0) && getsockname(fd, sa, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` (a connection is opened and closed).
    public static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                connect(fd, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(clamping: port).bigEndian
        return address
    }
}

/// A failure starting or waiting for a test's child process, with a message that shows its output.
public struct ChildProcessError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) {
        self.description = description
    }
}
