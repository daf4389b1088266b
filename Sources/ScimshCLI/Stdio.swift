import SCIMCore
import SCIMScript

#if canImport(Glibc)
    import Glibc
#endif

/// Writes data to stdout and messages to stderr; shows a progress line only when stderr is a terminal.
///
/// When stdout is not a terminal, data is buffered (64 KiB) and written at the end of each statement, before any
/// message, and when the buffer fills: a listing of 100,000 users is a few hundred writes, not 100,000.
final class StdioSink: OutputSink {
    private let lock = LockedValue<Bool>(false)  // whether a progress line is showing
    private let buffer = LockedValue<[UInt8]>([])
    let stderrIsTerminal: Bool
    let stdoutIsTerminal: Bool
    let colorMessages: Bool

    init() {
        stdoutIsTerminal = isatty(1) == 1
        stderrIsTerminal = isatty(2) == 1
        colorMessages =
            stderrIsTerminal && getenv("NO_COLOR") == nil && getenv("TERM").map { String(cString: $0) } != "dumb"
    }

    func writeData(_ text: String) {
        guard !stdoutIsTerminal else {
            // Server data (a CSV cell) must not reach the terminal as escape sequences; files get it as it is.
            writeClearingProgress(1, TerminalText.safe(text))
            return
        }
        let full = buffer.withLock { b -> [UInt8]? in
            b.append(contentsOf: text.utf8)
            guard b.count >= 65536 else { return nil }
            defer { b.removeAll(keepingCapacity: true) }
            return b
        }
        if let full { Stdio.writeAll(1, full) }
    }

    func statementFinished() { flush() }

    /// Writes buffered data out.
    func flush() {
        let data = buffer.withLock { b -> [UInt8] in
            defer { b.removeAll(keepingCapacity: true) }
            return b
        }
        if !data.isEmpty { Stdio.writeAll(1, data) }
    }

    func writeMessage(_ text: String) {
        flush()
        // An error's detail comes from the server: on a terminal only scimsh's own colors stay escape sequences.
        writeClearingProgress(2, stderrIsTerminal ? TerminalText.safe(text, allowingColor: colorMessages) : text)
    }

    func progress(_ line: String?) {
        guard stderrIsTerminal else { return }
        if let line {
            lock.withLock { showing in
                Stdio.writeAll(2, "\r\u{1B}[K" + line)
                showing = true
            }
        } else {
            writeClearingProgress(2, "")
        }
    }

    /// Writes `text` to `fd` after erasing the progress line, if one is showing.
    private func writeClearingProgress(_ fd: Int32, _ text: String) {
        lock.withLock { showing in
            if showing { Stdio.writeAll(2, "\r\u{1B}[K") }
            showing = false
            Stdio.writeAll(fd, text)
        }
    }
}

/// Unbuffered writes to file descriptors (no stdio buffering: output order is what was written).
enum Stdio {
    /// Writes all of `text` to `fd`, retrying on EINTR; gives up quietly on a closed pipe.
    static func writeAll(_ fd: Int32, _ text: String) {
        writeAll(fd, Array(text.utf8))
    }

    /// Writes all of `bytes` to `fd`.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var bytes = bytes
        var offset = 0
        bytes.withUnsafeMutableBytes { buf in
            guard let base = buf.baseAddress else { return }
            while offset < buf.count {
                let n = write(fd, base + offset, buf.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }

    /// Reads all of standard input as text.
    static func readAllStdin() -> String? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, 65536) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Writes `scimsh: message` on standard error and returns `status`, the exit status it ends in.
    static func fail(_ message: String, _ status: Int32) -> Int32 {
        writeAll(2, "scimsh: \(message)\n")
        return status
    }

    /// Whether a descriptor is a terminal.
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }
}
