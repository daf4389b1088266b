#if canImport(Glibc)
    import Glibc
#endif

/// Reading whole text files (scripts, `source`) with errors a person can act on.
public enum FileText {
    /// Why a file could not be read.
    /// Why a file could not be read.
    public struct Failure: Error, Sendable {
        /// The reason, e.g. "No such file or directory".
        public var message: String
    }

    /// The file's text; throws with the OS's reason ("No such file or directory") otherwise.
    public static func read(_ path: String, maxBytes: Int = 64 << 20) throws(Failure) -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { throw Failure(message: String(cString: strerror(errno))) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw Failure(message: "it is a directory") }
        guard let f = fopen(path, "rb") else { throw Failure(message: String(cString: strerror(errno))) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if bytes.count > maxBytes { throw Failure(message: "larger than \(maxBytes >> 20) MiB") }
            if n < 65536 {
                if ferror(f) != 0 { throw Failure(message: String(cString: strerror(errno))) }
                break
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(message: "it is not UTF-8 text")
        }
        return text
    }
}
