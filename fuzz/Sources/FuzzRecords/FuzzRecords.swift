import FuzzDriver
import SCIMScript

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// One scratch file per process, in TMPDIR; the first input byte picks the format.
let scratch: String = {
    let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    return "\(dir)/scimsh-fuzz-records-\(getpid())"
}()
let formats: [RecordFileFormat] = [.csv, .jsonl, .json]

/// CSV, JSON Lines and JSON readers: any file reads to records or clear errors, ending after at most one record or
/// error per byte (no endless loop, no trap).
func fuzzRecords(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let first = bytes.first, let base = bytes.baseAddress else { return 0 }
    let format = formats[Int(first) % formats.count]
    let path = scratch + "." + format.rawValue
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(path)") }
    var written = 0
    while written < size - 1 {
        let n = write(fd, base + 1 + written, size - 1 - written)
        guard n > 0 else { fatalError("cannot write \(path)") }
        written += n
    }
    close(fd)
    defer { unlink(path) }
    guard let reader = try? RecordFileReader(path: path, format: format) else { return 0 }
    var steps = 0
    while true {
        steps += 1
        guard steps <= size + 2 else { fatalError("\(format) reader still going after \(steps) records or errors") }
        do {
            guard try reader.next() != nil else { break }
        } catch {
            guard !error.description.isEmpty else { fatalError("empty error") }
        }
    }
    reader.close()
    return 0
}
