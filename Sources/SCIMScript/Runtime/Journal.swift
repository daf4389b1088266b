import Foundation
import SCIMCore

#if canImport(Glibc)
    import Glibc
#endif

/// The write journal: every write scimsh sends, with the user's editable attributes before and after, so that
/// `undo` can put them back — also after a restart, and for users `find` no longer lists.
///
/// One JSON object per line in `$XDG_STATE_HOME/scimsh/journal.jsonl` (else `~/.local/state/scimsh/`), mode
/// 0600. Each write has a `begin` line, written before the request goes out, and an `end` line with the outcome.
/// Lines are written with one `write(2)` each, so they reach the OS even if scimsh is killed, and the file is
/// synced to disk at the end of every statement.
///
/// Several processes may share one journal. Each write statement claims its number under an exclusive `flock` on
/// the file and writes a `statement` line with it at once, so the numbers stay unique and `undo N` finds exactly
/// that statement's writes. A line that cannot be read (a truncated last line, a hand edit) is skipped by
/// `journal` and `undo` with a warning, and the next line appended starts on a line of its own.
public final class Journal: Sendable {
    /// The attributes a journal entry records and undo restores (the ones ODM lets you edit).
    public static let editable = ["userName", "externalId", "displayName", "active"]

    /// The journal file.
    public let path: String
    let fd = Locked<Int32>(-1)
    let sequence = Locked<Int?>(nil)

    /// A journal at `path` (the file is opened on first write).
    public init(path: String) { self.path = path }

    /// The standard journal path for an environment, or `nil` when there is no home; `SCIMSH_JOURNAL` overrides
    /// it, and `SCIMSH_JOURNAL=off` turns the journal off.
    public static func standardPath(environment: [String: String]) -> String? {
        if let p = environment["SCIMSH_JOURNAL"], !p.isEmpty { return p == "off" ? nil : p }
        if let x = environment["XDG_STATE_HOME"], !x.isEmpty { return x + "/scimsh/journal.jsonl" }
        if let h = environment["HOME"], !h.isEmpty { return h + "/.local/state/scimsh/journal.jsonl" }
        return nil
    }

    /// The editable attributes of a user record (absent ones omitted).
    public static func image(_ record: Record?) -> JSONObject? { image(record, scope: .editable(plus: [])) }

    /// The attributes of a user record a scope keeps (absent ones omitted).
    static func image(_ record: Record?, scope: ImageScope) -> JSONObject? {
        guard let record else { return nil }
        var o = JSONObject()
        for k in scope.keys(of: record) {
            if let v = record[k] { o[k] = v }
        }
        return o
    }

    /// Which attributes a journal image keeps.
    public enum ImageScope: Sendable, Equatable {
        /// ``editable`` plus the top-level attributes the write may change (`nickName`, an extension's URN).
        case editable(plus: [String])
        /// Every attribute but `meta`: a write that may take the user away (DELETE on an RFC 7644 server), so
        /// undo can create it again.
        case whole

        /// ``editable`` plus those of `names` it lacks (none for `patch active=false`: the image is then made
        /// without building a key list, as it is for most bulk writes).
        static func adding(_ names: [String]) -> ImageScope {
            .editable(plus: names.filter { n in !Journal.editable.contains { $0.lowercased() == n.lowercased() } })
        }

        /// The keys of a record the image keeps.
        func keys(of record: Record) -> [String] {
            switch self {
            case .whole: return record.keys.filter { $0.lowercased() != "meta" }
            case .editable(let plus): return plus.isEmpty ? Journal.editable : Journal.editable + plus
            }
        }
    }

    /// ``image(_:)`` as compact JSON (`null` for no record), written straight from the record: a bulk write
    /// journals two images per user, and building each as an object first cost more than encoding it.
    public static func imageJSON(_ record: Record?, scope: ImageScope = .editable(plus: [])) -> [UInt8] {
        guard let record else { return Array("null".utf8) }
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(128)
        for k in scope.keys(of: record) {
            guard let v = record[k] else { continue }
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            JSONEncoderFast.writeString(k, into: &out)
            out.append(UInt8(ascii: ":"))
            JSONEncoderFast.writeCompact(v, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A new statement number, one more than the highest in the file (also when other processes append to it),
    /// claimed with a `statement` line holding the statement's (masked) text and host.
    public func nextStatement(text: String = "", host: String = "") -> Int {
        sequence.withLock { seq in
            guard let f = try? open() else {
                // The first write will report why the journal cannot be opened.
                let n = (seq ?? 0) + 1
                seq = n
                return n
            }
            while flock(f, LOCK_EX) != 0, errno == EINTR {}
            defer { flock(f, LOCK_UN) }
            Journal.endPartialLine(f)
            let n = max(Journal.lastStatementNumber(f), seq ?? 0) + 1
            seq = n
            var line: [UInt8] = Array(#"{"time":"#.utf8)
            JSONEncoderFast.writeString(Clock.iso8601Now(), into: &line)
            line += JournalWrite.statementFields(n, text, host)
            line += Array(#","phase":"statement"}"#.utf8)
            try? append(line: line)
            return n
        }
    }

    /// A line's statement number: a whole number from 1 to 2^53 (`nil` for anything else, such as `1e300`).
    static func statementNumber(_ entry: JSONObject) -> Int? {
        entry["statement_no"]?.numberValue.flatMap(wholeNumber)
    }

    /// `value` as a statement number: a whole number from 1 to 2^53, else `nil`.
    static func wholeNumber(_ value: Double) -> Int? {
        guard value.isFinite, value >= 1, value <= 9_007_199_254_740_992, value.rounded() == value else { return nil }
        return Int(value)
    }

    /// The highest statement number claimed in the file: the latest `statement` line's, or a higher one on a
    /// line after it (a journal written before claims had lines). Reads backwards from the end in 64 KiB steps
    /// and stops at that line; the caller holds the lock, so no claim is in progress.
    static func lastStatementNumber(_ f: Int32) -> Int {
        var end = Int(lseek(f, 0, SEEK_END))
        var last = 0
        var cut: [UInt8] = []  // the end of a line whose start is in the next chunk back
        while end > 0 {
            let start = max(0, end - 65536)
            var bytes = [UInt8](repeating: 0, count: end - start)
            let n = bytes.withUnsafeMutableBytes { pread(f, $0.baseAddress, $0.count, off_t(start)) }
            guard n == end - start else { return last }
            bytes += cut
            var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            cut = start > 0 && !lines.isEmpty ? Array(lines.removeFirst()) : []
            for line in lines.reversed() where !line.isEmpty {
                guard let o = (try? JSONParser.parse(line))?.objectValue, let v = statementNumber(o) else { continue }
                last = max(last, v)
                if o["phase"]?.stringValue == "statement" { return last }
            }
            end = start
        }
        return last
    }

    /// Writes a newline when the file does not end with one (a line cut short when scimsh was killed), so the
    /// next line is not glued onto it.
    static func endPartialLine(_ f: Int32) {
        let size = lseek(f, 0, SEEK_END)
        guard size > 0 else { return }
        var byte: UInt8 = 0
        guard pread(f, &byte, 1, size - 1) == 1, byte != 0x0A else { return }
        var newline: UInt8 = 0x0A
        _ = write(f, &newline, 1)
    }

    func open() throws -> Int32 {
        try fd.withLock { fd in
            if fd >= 0 { return fd }
            let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            if !dir.isEmpty { try Journal.makeDirectories(dir) }
            let f = Glibc.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard f >= 0 else {
                throw ScriptError("cannot open the journal \(path): \(String(cString: strerror(errno)))")
            }
            fchmod(f, 0o600)
            Journal.endPartialLine(f)
            fd = f
            return f
        }
    }

    static func makeDirectories(_ dir: String) throws {
        var current = dir.hasPrefix("/") ? "" : "."
        for part in dir.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0, errno != EEXIST {
                throw ScriptError("cannot create \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Outcome lines waiting to go out with the next write (see ``append(_:deferrable:)``).
    let pending = Locked<[UInt8]>([])

    /// Appends one entry as a line. A `deferrable` line (an outcome) may wait and go out together with the next
    /// line or at ``sync()``; a line announcing a write goes out at once, with any waiting ones, in one `write(2)`.
    /// If scimsh dies before a waiting outcome line is written, that write counts as unknown, which undo treats
    /// like a success (it restores the before-image, which is harmless if the write never happened).
    public func append(_ entry: JSONObject, deferrable: Bool = false) throws {
        try append(line: JSONEncoderFast.encodeBytes(.object(entry)), deferrable: deferrable)
    }

    /// Appends one line already encoded as a JSON object (without its newline); see ``append(_:deferrable:)``.
    func append(line encoded: [UInt8], deferrable: Bool = false) throws {
        var line = encoded
        line.append(0x0A)
        if deferrable {
            let flushNow = pending.withLock { p -> Bool in
                p.append(contentsOf: line)
                return p.count > 32768
            }
            if flushNow { try flushPending() }
            return
        }
        let bytes = pending.withLock { p -> [UInt8] in
            defer { p.removeAll(keepingCapacity: true) }
            return p + line
        }
        try writeAll(bytes)
    }

    /// Writes the waiting outcome lines.
    public func flushPending() throws {
        let bytes = pending.withLock { p -> [UInt8] in
            defer { p.removeAll(keepingCapacity: true) }
            return p
        }
        if !bytes.isEmpty { try writeAll(bytes) }
    }

    func writeAll(_ bytes: [UInt8]) throws {
        let f = try open()
        do {
            // One write(2) for the lines, through a handle that leaves the descriptor open.
            try FileHandle(fileDescriptor: f, closeOnDealloc: false).write(contentsOf: bytes)
        } catch {
            throw ScriptError("cannot write the journal \(path): \(FileAccess.reason(error))")
        }
    }

    /// Writes waiting lines and syncs the file to disk (end of a statement).
    public func sync() {
        try? flushPending()
        let f = fd.current
        if f >= 0 { fsync(f) }
    }

    /// Every entry in the file, oldest first (unreadable lines are skipped).
    public func entries() throws -> [JSONObject] { try read().entries }

    /// Every entry in the file, oldest first, and the numbers of the lines skipped because they are not an entry
    /// (not a JSON object, or no whole `statement_no`).
    func read() throws -> (entries: [JSONObject], badLines: [Int]) {
        guard access(path, F_OK) == 0 else { return ([], []) }
        let text: String
        do {
            text = try FileText.read(path, maxBytes: 1 << 30)
        } catch {
            throw ScriptError("cannot read the journal \(path): \(error.message)")
        }
        var entries: [JSONObject] = []
        var bad: [Int] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.isEmpty else { continue }
            if let o = (try? JSONParser.parse(String(line)))?.objectValue, Journal.statementNumber(o) != nil {
                entries.append(o)
            } else {
                bad.append(i + 1)
            }
        }
        return (entries, bad)
    }

    /// Every entry, after a warning naming the lines skipped (see ``read()``).
    func entries(warning: (String) -> Void) throws -> [JSONObject] {
        let (entries, bad) = try read()
        if !bad.isEmpty {
            let lines = bad.prefix(5).map(String.init).joined(separator: ", ") + (bad.count > 5 ? ", …" : "")
            warning(
                "the journal \(path) has \(bad.count) unreadable line\(bad.count == 1 ? "" : "s") (\(lines)), skipped; "
                    + "fix or remove \(bad.count == 1 ? "it" : "them") by hand")
        }
        return entries
    }

    deinit {
        try? flushPending()
        let f = fd.current
        if f >= 0 { close(f) }
    }
}

/// One write as the journal records it, shared by the begin and end lines.
///
/// Lines are written straight into bytes, with the before-image encoded once for both: a bulk write journals
/// every record twice, and building and encoding objects for it was a tenth of a PATCH's CPU.
struct JournalWrite: Sendable {
    var statementNumber: Int
    var statement: String
    var host: String
    var op: String
    var id: String?
    var userName: String?
    /// The before-image as JSON (`null` when there is none).
    let beforeJSON: [UInt8]
    /// Which attributes the before- and after-images keep.
    let scope: Journal.ImageScope

    /// A write of `before` (the user as it was, or `nil`); its image is encoded once, for both lines.
    init(
        statementNumber: Int, statement: String, host: String, op: String, id: String?, userName: String?,
        before: Record?, scope: Journal.ImageScope = .editable(plus: [])
    ) {
        self.statementNumber = statementNumber
        self.statement = statement
        self.host = host
        self.op = op
        self.id = id
        self.userName = userName
        self.scope = scope
        self.beforeJSON = Journal.imageJSON(before, scope: scope)
    }

    /// `,"statement_no":N,"statement":…,"host":…`, encoded once per statement (every line of it repeats them).
    static func statementFields(_ number: Int, _ statement: String, _ host: String) -> [UInt8] {
        if let hit = lastStatementFields.withLock({ c in
            c.number == number && c.statement == statement && c.host == host ? c.bytes : nil
        }) {
            return hit
        }
        var out: [UInt8] = Array(#","statement_no":"#.utf8)
        out.append(contentsOf: String(number).utf8)
        out.append(contentsOf: #","statement":"#.utf8)
        JSONEncoderFast.writeString(statement, into: &out)
        out.append(contentsOf: #","host":"#.utf8)
        JSONEncoderFast.writeString(host, into: &out)
        lastStatementFields.withLock { $0 = (number, statement, host, out) }
        return out
    }

    static let lastStatementFields = LockedValue<(number: Int, statement: String, host: String, bytes: [UInt8])>(
        (-1, "", "", []))

    /// The line for one phase, without its newline: `time`, `statement_no`, `statement`, `host`, `phase`, `op`,
    /// `id`, `userName`, `before`, `touches` (the attributes besides ``Journal/editable`` the images cover, when
    /// there are any), and for `end` also `after` (the image of the user the server answered with)
    /// and `outcome`, and `note` when one is given (what happened on the way, such as a token refreshed).
    func line(phase: String, after: Record?, outcome: String?, note: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(beforeJSON.count * 2 + statement.utf8.count + 256)
        func key(_ k: String) {
            out.append(out.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            JSONEncoderFast.writeString(k, into: &out)
            out.append(UInt8(ascii: ":"))
        }
        func string(_ k: String, _ v: String) {
            key(k)
            JSONEncoderFast.writeString(v, into: &out)
        }
        string("time", Clock.iso8601Now())
        out.append(contentsOf: JournalWrite.statementFields(statementNumber, statement, host))
        string("phase", phase)
        string("op", op)
        if let id { string("id", id) }
        if let userName { string("userName", userName) }
        key("before")
        out.append(contentsOf: beforeJSON)
        // The attributes beyond the editable ones that the image covers, so that undo knows which to compare
        // with the user's current state when the outcome is unknown (an absent one was absent before).
        if case .editable(let plus) = scope, !plus.isEmpty {
            key("touches")
            JSONEncoderFast.writeCompact(.array(plus.map { .string($0) }), into: &out)
        }
        if phase == "end" {
            key("after")
            out.append(contentsOf: Journal.imageJSON(after, scope: scope))
            string("outcome", outcome ?? "ok")
            if let note { string("note", note) }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

enum Clock {
    /// The last second formatted, so that a bulk write formats the time once per second, not per line.
    static let lastFormatted = LockedValue<(second: Int, text: String)>((-1, ""))

    /// Now as `2026-11-29T10:17:05Z`.
    static func iso8601Now() -> String {
        let now = time(nil)
        if let cached = lastFormatted.withLock({ $0.second == now ? $0.text : nil }) { return cached }
        let text = format(now)
        lastFormatted.withLock { $0 = (now, text) }
        return text
    }

    static func format(_ now: time_t) -> String { UTCTime.iso8601(Int(now)) }
}
