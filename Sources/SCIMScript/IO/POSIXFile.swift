#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Thin wrappers over POSIX file calls, so record files stream without Foundation.
enum POSIX {
    /// The OS's message for an `errno` value, such as `No such file or directory`.
    static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    /// The current `errno`.
    static var errorNumber: Int32 { errno }

    /// Whether `path` names an existing directory.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return UInt32(info.st_mode) & 0o170000 == 0o040000
    }

    /// Whether anything exists at `path` (a dangling symbolic link does not count).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Whether an open descriptor is a directory.
    static func isDirectory(fd: Int32) -> Bool {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return false }
        return UInt32(info.st_mode) & 0o170000 == 0o040000
    }

    /// Whether an open descriptor is a regular file (not a FIFO, device, socket or directory).
    static func isRegularFile(fd: Int32) -> Bool {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return false }
        return UInt32(info.st_mode) & 0o170000 == 0o100000
    }

    /// Opens a file for reading; the `errno` on failure. With `nonBlocking`, opening a FIFO does not wait for a
    /// writer (check the type with ``isRegularFile(fd:)`` before reading).
    static func openForReading(_ path: String, nonBlocking: Bool = false) -> Result<Int32, POSIXCode> {
        while true {
            let fd = open(path, O_RDONLY | O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0))
            if fd >= 0 { return .success(fd) }
            if errno != EINTR { return .failure(POSIXCode(errno)) }
        }
    }

    /// Creates a new file (failing if it exists) for writing, mode 0666 less the umask.
    static func createExclusive(_ path: String) -> Result<Int32, POSIXCode> {
        while true {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 { return .success(fd) }
            if errno != EINTR { return .failure(POSIXCode(errno)) }
        }
    }

    /// Reads up to `count` bytes into `buffer`; 0 at end of file.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, POSIXCode> {
        while true {
            let n = systemRead(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return .success(n) }
            if errno != EINTR { return .failure(POSIXCode(errno)) }
        }
    }

    /// Writes all of `bytes`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Void, POSIXCode> {
        var offset = 0
        while offset < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(POSIXCode(errno))
            }
            offset += n
        }
        return .success(())
    }

    /// Flushes a file to disk; file systems that cannot (`EINVAL`) count as success.
    static func sync(_ fd: Int32) -> Result<Void, POSIXCode> {
        if fsync(fd) == 0 || errno == EINVAL || errno == EROFS { return .success(()) }
        return .failure(POSIXCode(errno))
    }

    /// Closes a descriptor; the `errno` of a failed close (a delayed write error).
    @discardableResult
    static func closeFile(_ fd: Int32) -> Result<Void, POSIXCode> {
        if close(fd) == 0 || errno == EINTR { return .success(()) }
        return .failure(POSIXCode(errno))
    }

    /// Renames a file, replacing the target atomically.
    static func renameFile(_ from: String, _ to: String) -> Result<Void, POSIXCode> {
        rename(from, to) == 0 ? .success(()) : .failure(POSIXCode(errno))
    }

    /// Removes a file, ignoring errors.
    static func removeFile(_ path: String) {
        _ = unlink(path)
    }

    /// The process id, to make temporary names unique.
    static var processID: Int32 { getpid() }

    /// The `errno` of a directory, for messages about one.
    static let isDirectoryCode = POSIXCode(EISDIR)
}

/// An `errno` value.
struct POSIXCode: Error {
    let code: Int32
    init(_ code: Int32) { self.code = code }
    /// The OS's message for it.
    var message: String { POSIX.message(code) }
}

@inline(__always)
private func systemRead(_ fd: Int32, _ buf: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buf, count)
}

@inline(__always)
private func systemWrite(_ fd: Int32, _ buf: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buf, count)
}

extension POSIXCode {
    /// `EEXIST`: the file already exists.
    static let exists = EEXIST
}
