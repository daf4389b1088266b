#if canImport(Glibc)
    import Glibc
#endif

/// The journal of a run against the built-in sandbox: a fresh file in a private folder made with `mkdtemp`
/// (mode 0700) under `$TMPDIR` (else `/tmp`), so no other user can plant a file or a symbolic link at its
/// name beforehand, and removed with its folder when scimsh exits.
enum SandboxJournal {
    /// The journal's path, `$TMPDIR/scimsh-sandbox-XXXXXX/journal.jsonl`; `nil` (with the reason on stderr)
    /// when the folder cannot be made, and the run then journals nothing.
    static func makePath(environment: [String: String]) -> String? {
        let base = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((base + "/scimsh-sandbox-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { mkdtemp($0) != nil } ?? false
        }
        guard made else {
            Stdio.writeAll(
                2,
                "scimsh: cannot make a folder for the sandbox journal in \(base): "
                    + "\(String(cString: strerror(errno))); writes are not journaled (set SCIMSH_JOURNAL)\n")
            return nil
        }
        let folder = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return folder + "/journal.jsonl"
    }

    /// Removes the journal and its folder.
    static func remove(_ path: String) {
        unlink(path)
        if let slash = path.lastIndex(of: "/") { rmdir(String(path[..<slash])) }
    }
}
