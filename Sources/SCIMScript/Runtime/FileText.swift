/// Reading whole text files (scripts, `source`) with errors a person can act on.
public enum FileText {
    /// Why a file could not be read.
    public struct Failure: Error, Sendable {
        /// The reason, e.g. "No such file or directory".
        public var message: String
    }

    /// The file's text; throws with the OS's reason ("No such file or directory") otherwise. With
    /// `regularOnly` (startup files, read before the prompt can take Ctrl-C), a FIFO, device or socket is refused
    /// instead of read, so nothing can hang on it.
    public static func read(_ path: String, maxBytes: Int = 64 << 20, regularOnly: Bool = false) throws(Failure)
        -> String
    {
        let fd: Int32
        switch POSIX.openForReading(path, nonBlocking: regularOnly) {
        case .success(let f): fd = f
        case .failure(let code): throw Failure(message: code.message)
        }
        defer { POSIX.closeFile(fd) }
        if POSIX.isDirectory(fd: fd) { throw Failure(message: "it is a directory") }
        if regularOnly, !POSIX.isRegularFile(fd: fd) {
            throw Failure(message: "it is not a regular file (a FIFO, device or socket); use a plain text file")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let result = chunk.withUnsafeMutableBytes { POSIX.read(fd, into: $0) }
            guard case .success(let n) = result else {
                if case .failure(let code) = result { throw Failure(message: code.message) }
                break
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > maxBytes { throw Failure(message: "larger than \(maxBytes >> 20) MiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(message: "it is not UTF-8 text")
        }
        return text
    }
}
