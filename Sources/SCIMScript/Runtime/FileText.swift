import Foundation

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
        if FileAccess.isDirectory(path) { throw Failure(message: "it is a directory") }
        let file: FileHandle
        switch FileAccess.open(path, flags: O_RDONLY | (regularOnly ? O_NONBLOCK : 0)) {
        case .success(let f): file = f
        case .failure(let code): throw Failure(message: code.message)
        }
        defer { try? file.close() }
        if regularOnly {
            var info = stat()
            guard fstat(file.fileDescriptor, &info) == 0, UInt32(info.st_mode) & 0o170000 == 0o100000 else {
                throw Failure(message: "it is not a regular file (a FIFO, device or socket); use a plain text file")
            }
        }
        var bytes: [UInt8] = []
        do {
            while let chunk = try file.read(upToCount: 65536), !chunk.isEmpty {
                bytes.append(contentsOf: chunk)
                if bytes.count > maxBytes { throw Failure(message: "larger than \(maxBytes >> 20) MiB") }
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(message: FileAccess.reason(error))
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(message: "it is not UTF-8 text")
        }
        return text
    }
}
