import Foundation

/// Writes records to a CSV, JSON or JSON Lines file, all or nothing.
///
/// Records go to a temporary file next to the target (`.NAME.scimsh-PID-N.tmp`, mode 0666 less the umask); ``close()``
/// flushes it to disk and renames it over the target, so a failed or cancelled run never leaves half a file. A
/// writer dropped without ``close()`` removes its temporary file. Text is the same as the matching output format's
/// (``RecordWriters/make(_:columns:color:)``): a JSON file holds a valid array even for zero records, and CSV uses
/// the CSV formatter's columns and quoting.
public final class RecordFileWriter {
    /// The file's path, as given.
    public let path: String
    /// The format written.
    public let format: RecordFileFormat

    private enum State {
        case open
        case closed
        case discarded
        case failed(RecordFileError)
    }

    private let temporaryPath: String
    private var file: FileHandle?
    private var formatter: any RecordWriter
    private var state = State.open
    private var pending: [UInt8] = []
    private static let flushSize = 64 * 1024

    /// Starts writing `path` in `format` (by default from the extension); `columns` choose CSV's columns.
    public init(path: String, format: RecordFileFormat? = nil, columns: [String]? = nil) throws(RecordFileError) {
        guard let format = format ?? RecordFileFormat(path: path) else {
            throw RecordFileError(path: path, message: RecordFileFormat.unknownFormatMessage)
        }
        if FileAccess.isDirectory(path) {
            throw RecordFileError(path: path, message: "cannot write: \(FileAccess.reason(errno: EISDIR))")
        }
        let directoryPrefix: Substring
        let name: Substring
        if let slash = path.lastIndex(of: "/") {
            directoryPrefix = path[...slash]
            name = path[path.index(after: slash)...]
        } else {
            directoryPrefix = ""
            name = path[...]
        }
        var attempt = 0
        while true {
            let pid = ProcessInfo.processInfo.processIdentifier
            let candidate = "\(directoryPrefix).\(name).scimsh-\(pid)-\(UInt32.random(in: 0...UInt32.max)).tmp"
            switch FileAccess.open(candidate, flags: O_WRONLY | O_CREAT | O_EXCL) {
            case .success(let file):
                self.file = file
                self.temporaryPath = candidate
            case .failure(let error):
                attempt += 1
                if error.code == .EEXIST, attempt < 100 { continue }
                throw RecordFileError(path: path, message: "cannot write: \(error.message)")
            }
            break
        }
        self.path = path
        self.format = format
        self.formatter = RecordWriters.make(format.outputFormat, columns: columns)
    }

    deinit {
        if case .open = state { discard() }
    }

    /// Appends one record.
    public func write(_ record: Record) throws(RecordFileError) {
        try checkOpen()
        try emit(formatter.write(record))
    }

    /// Finishes the file (a JSON array's `]`, a CSV header for zero records when columns were given), flushes it to
    /// disk and moves it into place; calling it again does nothing.
    public func close() throws(RecordFileError) {
        if case .closed = state { return }
        try checkOpen()
        try emit(formatter.finish())
        try flush()
        do {
            try file?.synchronize()
            try file?.close()
            file = nil
        } catch {
            try fail("cannot write: \(FileAccess.reason(error))")
        }
        // rename(2) replaces the target atomically (FileManager's move refuses an existing target).
        if rename(temporaryPath, path) != 0 { try fail("cannot write: \(FileAccess.reason(errno: errno))") }
        state = .closed
    }

    /// Abandons the file: removes the temporary file and leaves any existing file at ``path`` as it was.
    public func discard() {
        guard case .open = state else { return }
        try? file?.close()
        file = nil
        try? FileManager.default.removeItem(atPath: temporaryPath)
        state = .discarded
    }

    private func checkOpen() throws(RecordFileError) {
        switch state {
        case .open: return
        case .failed(let error): throw error
        case .closed: throw RecordFileError(path: path, message: "cannot write: the file is already closed")
        case .discarded: throw RecordFileError(path: path, message: "cannot write: the file was discarded")
        }
    }

    /// Queues text, writing it out in 64 KiB pieces.
    private func emit(_ text: String) throws(RecordFileError) {
        pending.append(contentsOf: text.utf8)
        if pending.count >= Self.flushSize { try flush() }
    }

    /// Writes out the queued text.
    private func flush() throws(RecordFileError) {
        guard !pending.isEmpty else { return }
        defer { pending.removeAll(keepingCapacity: true) }
        do {
            try file?.write(contentsOf: pending)
        } catch {
            try fail("cannot write: \(FileAccess.reason(error))")
        }
    }

    /// Removes the temporary file and remembers the error, so later calls throw it again.
    private func fail(_ message: String) throws(RecordFileError) -> Never {
        let error = RecordFileError(path: path, message: message)
        try? file?.close()
        file = nil
        try? FileManager.default.removeItem(atPath: temporaryPath)
        state = .failed(error)
        throw error
    }
}
