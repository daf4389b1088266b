import Foundation

/// Files for scripts, record files and the journal: Foundation's `FileHandle` reads and writes them, `open(2)`
/// opens them where its flags matter (`O_EXCL` for a temporary file, `O_NONBLOCK` so a FIFO cannot hang a read),
/// and messages give the OS's reason (`No such file or directory`), not Foundation's wording.
enum FileAccess {
    /// The OS's reason for a failed file operation: the POSIX error under Foundation's.
    static func reason(_ error: any Error) -> String {
        let error = error as NSError
        let posix = error.domain == NSPOSIXErrorDomain ? error : error.userInfo[NSUnderlyingErrorKey] as? NSError
        if let posix, posix.domain == NSPOSIXErrorDomain { return reason(errno: Int32(posix.code)) }
        return error.localizedDescription
    }

    /// The OS's message for an `errno` value.
    static func reason(errno code: Int32) -> String { String(cString: strerror(code)) }

    /// Opens `path` with `open(2)` flags (close-on-exec is added); the `errno` on failure.
    static func open(_ path: String, flags: Int32, mode: mode_t = 0o666) -> Result<FileHandle, POSIXError> {
        while true {
            let fd = Foundation.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return .success(FileHandle(fileDescriptor: fd, closeOnDealloc: true)) }
            if errno != EINTR { return .failure(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)) }
        }
    }

    /// Whether `path` names a directory (following symbolic links).
    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

extension POSIXError {
    /// The OS's message for it.
    var message: String { FileAccess.reason(errno: code.rawValue) }
}
