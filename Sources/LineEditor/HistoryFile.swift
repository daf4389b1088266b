#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The persistent history of the interactive shell: a private file, capped, shared between sessions.
///
/// Format: one entry per line, UTF-8. A backslash, a newline and a carriage return inside an entry are written
/// as `\\`, `\n` and `\r`, so multi-line entries round-trip; any other backslash sequence reads back unchanged.
///
/// Sharing: ``append(_:)`` re-reads the file under an exclusive lock (`<path>.lock`), appends only the given
/// entries, keeps the newest ``maxEntries`` and replaces the file atomically (temporary file with mode 0600, then
/// `rename`). Two sessions that append in turn therefore both keep their lines; a session sees the other's lines
/// the next time it loads.
public struct HistoryFile: Sendable, Equatable {
    /// The default number of entries kept.
    public static let defaultMaxEntries = 2000

    /// The file's path.
    public let path: String
    /// The most entries the file keeps; older ones are dropped when appending.
    public let maxEntries: Int
    /// Whether an entry sets a secret and must never be stored (the shell passes a check on the parsed
    /// statements; by default ``SecretFilter/containsSecret(_:)``).
    public var isSecret: @Sendable (String) -> Bool = SecretFilter.containsSecret

    /// A history file at `path` keeping at most `maxEntries` entries (at least 1).
    public init(path: String, maxEntries: Int = HistoryFile.defaultMaxEntries) {
        self.path = path
        self.maxEntries = max(1, maxEntries)
    }

    /// Two history files are equal when they are the same file with the same cap.
    public static func == (a: HistoryFile, b: HistoryFile) -> Bool {
        a.path == b.path && a.maxEntries == b.maxEntries
    }

    /// The standard location: `$XDG_STATE_HOME/scimsh/history` when that variable is an absolute path, else
    /// `$HOME/.local/state/scimsh/history` (home from the password database when `HOME` is unset); `nil` when
    /// no home directory is known.
    public static func defaultPath(environment: [String: String]) -> String? {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            return join(state, "scimsh/history")
        }
        var home = environment["HOME"] ?? ""
        if home.isEmpty, let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir {
            home = String(cString: directory)
        }
        guard home.hasPrefix("/") else { return nil }
        return join(home, ".local/state/scimsh/history")
    }

    /// The history file at ``defaultPath(environment:)``, or `nil` when there is no home directory.
    public static func standard(
        environment: [String: String],
        maxEntries: Int = HistoryFile.defaultMaxEntries
    ) -> HistoryFile? {
        defaultPath(environment: environment).map { HistoryFile(path: $0, maxEntries: maxEntries) }
    }

    // MARK: Reading and writing

    /// The entries in the file, oldest first; empty when the file does not exist. Secret lines that an older
    /// version or a hand edit left in the file are skipped, and permissions wider than 0600 are narrowed.
    public func load() throws(HistoryFileError) -> [String] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            let code = errno
            if code == ENOENT { return [] }
            throw HistoryFileError(operation: "open", path: path, errno: code)
        }
        defer { close(descriptor) }
        var status = stat()
        if fstat(descriptor, &status) == 0, status.st_mode & 0o077 != 0, status.st_uid == getuid() {
            // Someone widened the permissions (or an old version created it so): make it private again.
            _ = fchmod(descriptor, 0o600)
        }
        let bytes = try readAll(descriptor)
        return Self.decode(bytes).filter { !isSecret($0) }
    }

    /// Adds `entries` (oldest first) after the file's current entries, keeps the newest ``maxEntries`` and writes
    /// the file atomically with mode 0600, creating its directory (mode 0700) when missing. Secret and blank
    /// entries are dropped. Returns the entries the file now holds.
    @discardableResult
    public func append(_ entries: [String]) throws(HistoryFileError) -> [String] {
        let fresh = entries.filter(isStorable)
        try createParentDirectories()
        let lock = try acquireLock()
        defer {
            flock(lock, LOCK_UN)
            close(lock)
        }
        var all = try load()
        all.append(contentsOf: fresh)
        if all.count > maxEntries {
            all.removeFirst(all.count - maxEntries)
        }
        try writeAtomically(Self.encode(all))
        return all
    }

    /// Whether `entry` may be kept in history: not blank and not setting a secret (``SecretFilter``).
    public static func isStorable(_ entry: String) -> Bool {
        isStorable(entry, isSecret: SecretFilter.containsSecret)
    }

    /// Whether `entry` may be kept in this file: not blank and not setting a secret (``isSecret``).
    public func isStorable(_ entry: String) -> Bool {
        Self.isStorable(entry, isSecret: isSecret)
    }

    /// Whether `entry` may be kept in history: not blank, and not a secret by `isSecret`.
    public static func isStorable(_ entry: String, isSecret: (String) -> Bool) -> Bool {
        !entry.allSatisfy(\.isWhitespace) && !isSecret(entry)
    }

    // MARK: Encoding

    /// The file contents for `entries`: one escaped entry per line.
    public static func encode(_ entries: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        for entry in entries {
            for byte in entry.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                default: bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }

    /// The entries in file contents `bytes`; tolerant of any input (invalid UTF-8 is replaced, empty lines are
    /// skipped, a final line without newline counts).
    public static func decode(_ bytes: [UInt8]) -> [String] {
        var entries: [String] = []
        var current: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\n") {
                if !current.isEmpty { entries.append(String(decoding: current, as: UTF8.self)) }
                current.removeAll(keepingCapacity: true)
            } else if byte == UInt8(ascii: "\\"), index < bytes.count {
                let next = bytes[index]
                switch next {
                case UInt8(ascii: "\\"): current.append(UInt8(ascii: "\\")); index += 1
                case UInt8(ascii: "n"): current.append(UInt8(ascii: "\n")); index += 1
                case UInt8(ascii: "r"): current.append(UInt8(ascii: "\r")); index += 1
                default: current.append(byte)
                }
            } else {
                current.append(byte)
            }
        }
        if !current.isEmpty { entries.append(String(decoding: current, as: UTF8.self)) }
        return entries
    }

    // MARK: Files

    private var directory: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    private static func join(_ base: String, _ tail: String) -> String {
        base.hasSuffix("/") ? base + tail : base + "/" + tail
    }

    private func createParentDirectories() throws(HistoryFileError) {
        var prefix = ""
        for component in directory.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 {
                let code = errno
                if code != EEXIST {
                    throw HistoryFileError(operation: "mkdir", path: prefix, errno: code)
                }
            }
        }
    }

    private func acquireLock() throws(HistoryFileError) -> Int32 {
        let lockPath = path + ".lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw HistoryFileError(operation: "open", path: lockPath, errno: errno)
        }
        while flock(descriptor, LOCK_EX) != 0 {
            let code = errno
            if code != EINTR {
                close(descriptor)
                throw HistoryFileError(operation: "flock", path: lockPath, errno: code)
            }
        }
        return descriptor
    }

    private func readAll(_ descriptor: Int32) throws(HistoryFileError) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return result }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw HistoryFileError(operation: "read", path: path, errno: code)
            }
            result.append(contentsOf: buffer[0..<count])
        }
    }

    private func writeAtomically(_ bytes: [UInt8]) throws(HistoryFileError) {
        let temporary = path + ".tmp.\(getpid())"
        // Never through a link planted at the temporary name.
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw HistoryFileError(operation: "open", path: temporary, errno: errno)
        }
        var failure: HistoryFileError?
        // The umask can only narrow 0600; fchmod makes it exact even if the name existed with wider bits.
        if fchmod(descriptor, 0o600) != 0 {
            failure = HistoryFileError(operation: "fchmod", path: temporary, errno: errno)
        }
        var offset = 0
        while failure == nil, offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                write(descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset)
            }
            if written < 0 {
                let code = errno
                if code != EINTR { failure = HistoryFileError(operation: "write", path: temporary, errno: code) }
            } else {
                offset += written
            }
        }
        if failure == nil, fsync(descriptor) != 0 {
            failure = HistoryFileError(operation: "fsync", path: temporary, errno: errno)
        }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 {
            failure = HistoryFileError(operation: "rename", path: path, errno: errno)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }
}

/// Why reading or writing a history file failed.
public struct HistoryFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The system call that failed, such as `open` or `rename`.
    public let operation: String
    /// The path it was called on.
    public let path: String
    /// The `errno` value it set.
    public let errno: Int32

    /// A failure of `operation` on `path` with error number `errno`.
    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// For example `history: cannot open /x/history: Permission denied`.
    public var description: String {
        let reason = strerror(errno).map { String(cString: $0) } ?? "error \(errno)"
        return "history: cannot \(operation) \(path): \(reason)"
    }
}

/// Recognises lines that set a secret, which are never stored in any history.
public enum SecretFilter {
    /// Whether any statement in `line` sets a variable whose name contains `token`, `secret`, `password` or
    /// `passwd` (any case): `set token = ...`, `SET  api_token=...`, `echo x; set token = y`.
    public static func containsSecret(_ line: String) -> Bool {
        let bytes = Array(line.utf8.map { $0 | (isUpper($0) ? 0x20 : 0) })
        var index = 0
        var atStatementStart = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ";") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "|") {
                atStatementStart = true
                index += 1
            } else if isSpace(byte) {
                index += 1
            } else if atStatementStart {
                if setsSecret(bytes, at: index) { return true }
                atStatementStart = false
                index += 1
            } else {
                index += 1
            }
        }
        return false
    }

    /// Whether `bytes` (lowercased) at `start` read `set NAME =` with a secret-looking NAME.
    private static func setsSecret(_ bytes: [UInt8], at start: Int) -> Bool {
        let keyword = Array("set".utf8)
        guard start + keyword.count < bytes.count,
            Array(bytes[start..<start + keyword.count]) == keyword,
            isSpace(bytes[start + keyword.count])
        else { return false }
        var index = start + keyword.count
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        let nameStart = index
        while index < bytes.count, isNameByte(bytes[index]) { index += 1 }
        let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
        guard !name.isEmpty else { return false }
        while index < bytes.count, isSpace(bytes[index]) { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { return false }
        return ["token", "secret", "password", "passwd"].contains { name.contains($0) }
    }

    private static func isUpper(_ byte: UInt8) -> Bool { byte >= 65 && byte <= 90 }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte >= 0x80
    }
}
