import Dispatch
import SCIMCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A program that prints an access token — a password manager (`pass show odm/prod`), the desktop keyring
/// (`secret-tool lookup …`), a cloud CLI — run without a shell.
///
/// ```swift
/// let command = try TokenCommand(parsing: "pass show odm/prod")
/// let token = try await command.run()
/// ```
///
/// The command line is split into words with simple shell-like quoting (see ``init(parsing:timeout:)``); no shell
/// runs, so nothing is expanded. The program inherits the environment, standard error (a password manager may ask
/// for a passphrase there) and, when it is a terminal, standard input. Its standard output is read through a pipe,
/// never logged nor shown: the first line, trimmed, is the token. A failure says how the program ended, never what it
/// printed. The value is reusable: a client runs the same command again when the server says a token expired.
public struct TokenCommand: Sendable, Hashable, CustomStringConvertible {
    /// The program and its arguments; `argv[0]` is looked up on `PATH` unless it contains a `/`.
    public let argv: [String]
    /// How long the program may run before it is stopped (default 30 seconds).
    public var timeout: Duration
    /// The most output accepted (a token is short; more means the wrong command).
    public var maxOutputBytes: Int = 64 << 10

    /// A command from its words.
    public init(argv: [String], timeout: Duration = .seconds(30)) {
        self.argv = argv
        self.timeout = timeout
    }

    /// A command from a command line such as `pass show "odm/prod"`.
    ///
    /// Words are separated by blanks. `'…'` keeps everything literally; `"…"` keeps everything but `\"`, `\\`,
    /// `\$` and `` \` ``, which stand for the character after the backslash; outside quotes a backslash keeps the
    /// next character literally. Since no shell runs, an unquoted `|`, `&`, `;`, `<`, `>`, `(`, `)`, `$` or `` ` ``,
    /// or a `~` starting a word, is an error rather than something silently passed on as a word.
    public init(parsing commandLine: String, timeout: Duration = .seconds(30)) throws(TokenCommandError) {
        self.init(argv: try TokenCommand.split(commandLine), timeout: timeout)
    }

    /// The command that reads the token of connection profile `profile` from the desktop keyring (libsecret):
    /// `secret-tool lookup service scimsh profile NAME`.
    public static func keyring(profile: String, timeout: Duration = .seconds(30)) -> TokenCommand {
        TokenCommand(argv: ["secret-tool", "lookup", "service", "scimsh", "profile", profile], timeout: timeout)
    }

    /// The words quoted so that ``init(parsing:timeout:)`` gives them back: `pass show 'odm/my prod'`.
    public var commandLine: String {
        argv.map(TokenCommand.quote).joined(separator: " ")
    }

    public var description: String { commandLine }

    /// Runs the program and returns the token: the first line of its standard output, with blanks trimmed.
    ///
    /// Throws ``TokenCommandError`` when it cannot start, exits with a status other than 0, is killed, runs
    /// longer than ``timeout``, prints nothing or something that is not a token, or when the calling task is
    /// cancelled (the program is then stopped).
    public func run() async throws(TokenCommandError) -> String {
        guard let program = argv.first, !program.isEmpty else { throw .emptyCommand() }
        let cancelled = CancelFlag()
        let command = self
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation {
                (continuation: CheckedContinuation<Result<String, TokenCommandError>, Never>) in
                // The program may run for seconds (a passphrase prompt): wait on a thread of our own, not the
                // cooperative pool.
                DispatchQueue.global().async {
                    continuation.resume(returning: command.runBlocking(cancelled: cancelled))
                }
            }
        } onCancel: {
            cancelled.set()
        }
        return try result.get()
    }

    // MARK: - Running

    /// Spawns, reads and waits; never throws (the result carries the error).
    func runBlocking(cancelled: CancelFlag) -> Result<String, TokenCommandError> {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return .failure(.cannotStart(self, reason: TokenCommand.errnoText(errno))) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let pid: pid_t
        switch spawn(stdout: writeEnd) {
        case .success(let p): pid = p
        case .failure(let error):
            close(readEnd)
            close(writeEnd)
            return .failure(error)
        }
        close(writeEnd)
        defer { close(readEnd) }

        let deadline = ContinuousClock.now.advanced(by: timeout)
        var output: [UInt8] = []
        defer { TokenCommand.wipe(&output) }
        var chunk = [UInt8](repeating: 0, count: 4096)
        defer { TokenCommand.wipe(&chunk) }
        var stop: TokenCommandError?
        reading: while true {
            if cancelled.isSet {
                stop = .cancelled(self)
                break
            }
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero {
                stop = .timedOut(self)
                break
            }
            var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(100, max(1, TokenCommand.milliseconds(remaining)))))
            if ready < 0, errno != EINTR {
                stop = .cannotStart(self, reason: TokenCommand.errnoText(errno))
                break
            }
            if ready <= 0 { continue }
            let n = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                stop = .cannotStart(self, reason: TokenCommand.errnoText(errno))
                break
            }
            if n == 0 { break reading }
            output.append(contentsOf: chunk[0..<n])
            if output.count > maxOutputBytes {
                stop = .invalidOutput(
                    self,
                    TokenCommandError.OutputProblem(
                        text: "printed more than \(maxOutputBytes >> 10) KiB, which is not a token"))
                break
            }
        }
        if let stop {
            TokenCommand.terminate(pid)
            return .failure(stop)
        }
        // The program closed its output; wait for it to exit (within what is left of the time).
        guard let status = TokenCommand.wait(pid, until: deadline, cancelled: cancelled) else {
            TokenCommand.terminate(pid)
            return .failure(cancelled.isSet ? .cancelled(self) : .timedOut(self))
        }
        let signal = status & 0x7F
        if signal != 0 { return .failure(.killed(self, signal: signal)) }
        let exitStatus = (status >> 8) & 0xFF
        if exitStatus != 0 { return .failure(.failed(self, status: exitStatus)) }
        return TokenCommand.token(from: output).mapError { .invalidOutput(self, $0) }
    }

    /// The token in a program's output: its first line, trimmed; or why there is none (never the output itself).
    static func token(from output: [UInt8]) -> Result<String, TokenCommandError.OutputProblem> {
        // Lines are split on bytes: in a Swift string "\r\n" is one character, which "\n" does not match.
        var firstLine = output.prefix { $0 != UInt8(ascii: "\n") }
        if firstLine.last == UInt8(ascii: "\r") { firstLine.removeLast() }
        guard let text = String(validating: firstLine, as: UTF8.self),
            String(validating: output, as: UTF8.self) != nil
        else {
            return .failure("printed something that is not UTF-8 text")
        }
        let token = text.trimmedSpaces
        if token.isEmpty {
            let blank = output.allSatisfy { [0x20, 0x09, 0x0A, 0x0D].contains($0) }
            return .failure(blank ? "printed nothing" : "printed an empty first line")
        }
        if token.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return .failure("printed control characters, which a token cannot hold")
        }
        return .success(token)
    }

    /// Starts the program with standard output on `stdout` and every other inherited descriptor closed.
    func spawn(stdout: Int32) -> Result<pid_t, TokenCommandError> {
        var actions = SpawnSetup.blankActions
        var attributes = SpawnSetup.blankAttributes
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Standard input stays the terminal's (a passphrase prompt); a script being read from a pipe is not the
        // program's to consume.
        if isatty(0) == 0 { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        // Connections and files of this process are not the program's business (and a connection left open in it
        // would outlive the client).
        for descriptor in SpawnSetup.openDescriptors() where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        SpawnSetup.resetSignals(&attributes)

        var cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let program = argv[0]
        let result =
            program.contains("/")
            ? posix_spawn(&pid, program, &actions, &attributes, &cArguments, environ)
            : posix_spawnp(&pid, program, &actions, &attributes, &cArguments, environ)
        guard result == 0 else {
            if result == ENOENT { return .failure(.notFound(self)) }
            return .failure(.cannotStart(self, reason: TokenCommand.errnoText(result)))
        }
        return .success(pid)
    }

    /// Waits for the program to exit until `deadline`; its raw wait status, or `nil` on timeout or cancellation.
    static func wait(_ pid: pid_t, until deadline: ContinuousClock.Instant, cancelled: CancelFlag) -> Int32? {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return status }
            if r < 0, errno != EINTR { return 0 }
            if cancelled.isSet || ContinuousClock.now >= deadline { return nil }
            usleep(5_000)
        }
    }

    /// Stops a program: SIGTERM, a second to exit, then SIGKILL; always reaps it.
    static func terminate(_ pid: pid_t) {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<100 {
            if waitpid(pid, &status, WNOHANG) != 0 { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
    }

    /// Overwrites bytes that held (part of) a token before they are freed.
    static func wipe(_ bytes: inout [UInt8]) {
        for i in bytes.indices { bytes[i] = 0 }
    }

    static func milliseconds(_ d: Duration) -> Int {
        let (seconds, attoseconds) = d.components
        return Int(clamping: seconds) &* 1000 &+ Int(attoseconds / 1_000_000_000_000_000)
    }

    static func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }

    // MARK: - Words

    /// Characters a shell would give meaning to; without a shell they are refused unless quoted.
    static let shellCharacters: Set<Character> = ["|", "&", ";", "<", ">", "(", ")", "$", "`"]

    /// Splits a command line into words (see ``init(parsing:timeout:)``).
    static func split(_ line: String) throws(TokenCommandError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            switch c {
            case " ", "\t", "\n", "\r":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                guard let end = chars.firstIndex(of: "'") else { throw .unterminatedQuote("'", in: line) }
                word += String(chars[..<end])
                chars = chars[(end + 1)...]
            case "\"":
                inWord = true
                var closed = false
                while let d = chars.popFirst() {
                    if d == "\"" {
                        closed = true
                        break
                    }
                    if d == "\\", let e = chars.first, ["\"", "\\", "$", "`"].contains(e) {
                        word.append(e)
                        chars.removeFirst()
                    } else {
                        word.append(d)
                    }
                }
                guard closed else { throw .unterminatedQuote("\"", in: line) }
            case "\\":
                guard let e = chars.popFirst() else { throw .trailingBackslash(in: line) }
                // A backslash before a line break joins the lines, as in a shell.
                if e != "\n" {
                    word.append(e)
                    inWord = true
                }
            case "~" where !inWord:
                throw .shellSyntax("~", in: line)
            default:
                if shellCharacters.contains(c) { throw .shellSyntax(c, in: line) }
                word.append(c)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        guard !words.isEmpty, !(words.first ?? "").isEmpty else { throw .emptyCommand() }
        return words
    }

    /// A word as the command line shows it: bare when that is unambiguous, else in single quotes.
    static func quote(_ word: String) -> String {
        let plain =
            !word.isEmpty
            && word.unicodeScalars.allSatisfy { s in
                (s.properties.isAlphabetic && s.isASCII) || ("0"..."9").contains(s)
                    || "_@%+=:,./-".unicodeScalars.contains(s)
            }
        if plain { return word }
        return "'" + word.replacing("'", with: #"'\''"#) + "'"
    }
}

/// Why a ``TokenCommand`` gave no token. Its message names the command and how it ended; it never contains what
/// the program printed.
public struct TokenCommandError: Error, Sendable, Hashable, CustomStringConvertible {
    enum Code: Sendable, Hashable {
        case emptyCommand
        case syntax
        case notFound
        case cannotStart
        case failed
        case killed
        case timedOut
        case invalidOutput
        case cancelled
        case sameToken
    }

    /// What was wrong with a program's output (never the output itself).
    struct OutputProblem: Error, ExpressibleByStringLiteral {
        var text: String
        init(text: String) { self.text = text }
        init(stringLiteral value: String) { text = value }
    }

    let code: Code
    /// What went wrong and what to do, for a person.
    public let message: String
    /// The program's exit status, when it exited with one other than 0.
    public let exitStatus: Int32?

    init(_ code: Code, _ message: String, exitStatus: Int32? = nil) {
        self.code = code
        self.message = message
        self.exitStatus = exitStatus
    }

    public var description: String { message }

    /// Whether the program could not be found (for a friendlier hint, e.g. to install `secret-tool`).
    public var isProgramMissing: Bool { code == .notFound }
    /// Whether the command line could not be split into words.
    public var isSyntaxError: Bool { code == .syntax || code == .emptyCommand }
    /// Whether the run was stopped because the calling task was cancelled.
    public var isCancelled: Bool { code == .cancelled }

    static func sameToken() -> Self {
        Self(
            .sameToken,
            "it printed the token the server had just refused: the token is wrong rather than expired, or the "
                + "command's source still holds the old one")
    }

    static func emptyCommand() -> Self {
        Self(.emptyCommand, "the token command is empty: give a program and its arguments, e.g. pass show odm/prod")
    }

    static func unterminatedQuote(_ quote: Character, in line: String) -> Self {
        Self(.syntax, "token command \(line): a \(quote) quote is not closed")
    }

    static func trailingBackslash(in line: String) -> Self {
        Self(.syntax, "token command \(line): it ends with a backslash that escapes nothing")
    }

    static func shellSyntax(_ c: Character, in line: String) -> Self {
        Self(
            .syntax,
            "token command \(line): '\(c)' would mean something to a shell, but no shell runs the command; "
                + "put it in quotes, or write a small script and name the script as the command")
    }

    static func notFound(_ command: TokenCommand) -> Self {
        Self(
            .notFound,
            "token command \(command): '\(command.argv.first ?? "")' was not found (install it, check PATH, "
                + "or give its full path)")
    }

    static func cannotStart(_ command: TokenCommand, reason: String) -> Self {
        Self(.cannotStart, "token command \(command): cannot run it: \(reason)")
    }

    static func failed(_ command: TokenCommand, status: Int32) -> Self {
        Self(
            .failed,
            "token command \(command) failed with exit status \(status) (what it printed is not shown; its own "
                + "messages, if any, are above; run it yourself to see why)", exitStatus: status)
    }

    static func killed(_ command: TokenCommand, signal: Int32) -> Self {
        Self(.killed, "token command \(command) was killed by signal \(signal)")
    }

    static func timedOut(_ command: TokenCommand) -> Self {
        let seconds = command.timeout.components.seconds
        return Self(
            .timedOut,
            "token command \(command) did not finish within \(seconds) s and was stopped (is it waiting for input? "
                + "run it yourself to check)")
    }

    static func invalidOutput(_ command: TokenCommand, _ problem: OutputProblem) -> Self {
        Self(.invalidOutput, "token command \(command) \(problem.text); it must print the token on its first line")
    }

    static func cancelled(_ command: TokenCommand) -> Self {
        Self(.cancelled, "token command \(command) was interrupted")
    }
}

/// A flag set once from a cancellation handler and read by the thread running the program.
final class CancelFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}

/// What a program started with `posix_spawn` needs from this process, for ``TokenCommand`` and the tests' child
/// processes alike.
package enum SpawnSetup {
    #if canImport(Glibc)
        package typealias Attributes = posix_spawnattr_t
        /// Attributes for `posix_spawnattr_init`, and file actions for `posix_spawn_file_actions_init`.
        package static var blankAttributes: Attributes { posix_spawnattr_t() }
        package static var blankActions: posix_spawn_file_actions_t { posix_spawn_file_actions_t() }
    #else
        package typealias Attributes = posix_spawnattr_t?
        /// Attributes for `posix_spawnattr_init`, and file actions for `posix_spawn_file_actions_init`.
        package static var blankAttributes: Attributes { nil }
        package static var blankActions: posix_spawn_file_actions_t? { nil }
    #endif

    /// Sets an empty signal mask and default dispositions in `attributes` (initialised). Threads of Swift's pool
    /// and of Dispatch run with signals blocked, and a spawned program inherits the mask: without a reset it would
    /// ignore Ctrl-C, SIGHUP and the SIGTERM of a timeout.
    package static func resetSignals(_ attributes: inout Attributes) {
        var emptySet = sigset_t()
        sigemptyset(&emptySet)
        var defaultSet = sigset_t()
        sigemptyset(&defaultSet)
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH] {
            sigaddset(&defaultSet, signal)
        }
        posix_spawnattr_setsigmask(&attributes, &emptySet)
        posix_spawnattr_setsigdefault(&attributes, &defaultSet)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    }

    /// The descriptors open in this process (from /proc/self/fd; else the first 1024), for the program to close.
    package static func openDescriptors() -> [Int32] {
        guard let dir = opendir("/proc/self/fd") else { return Array(3..<1024) }
        defer { closedir(dir) }
        let own = dirfd(dir)
        var result: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let fd = Int32(name), fd != own { result.append(fd) }
        }
        return result
    }
}
