import SCIMCore
import SCIMScript

#if canImport(Glibc)
    import Glibc
#endif

/// Which lessons a learner has done, kept in the state folder beside the history and the journal
/// (`$XDG_STATE_HOME/scimsh/tutorial`, else `~/.local/state/scimsh/tutorial`): one lesson id a line, so `tutorial`
/// resumes at the first lesson not done, and lessons added later simply count as not done.
struct TutorialProgress {
    /// The file, or `nil` when there is no home (progress is then kept for this run only).
    let path: String?
    private(set) var done: [String]

    /// The standard place for an environment.
    static func standardPath(environment: [String: String]) -> String? {
        if let x = environment["XDG_STATE_HOME"], x.hasPrefix("/") { return x + "/scimsh/tutorial" }
        if let h = environment["HOME"], h.hasPrefix("/") { return h + "/.local/state/scimsh/tutorial" }
        return nil
    }

    /// The progress saved at `path` (none when there is no file or it cannot be read).
    init(path: String?) {
        self.path = path
        guard let path, let text = try? FileText.read(path, maxBytes: 1 << 20, regularOnly: true) else {
            done = []
            return
        }
        done = text.split(separator: "\n").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    /// Whether the lesson is done.
    func isDone(_ id: String) -> Bool { done.contains(id) }

    /// The index of the first lesson not done, or `nil` when every one is.
    func next(in lessons: [Lesson]) -> Int? { lessons.firstIndex { !isDone($0.id) } }

    /// Marks a lesson done and saves; an error message when the file cannot be written.
    mutating func markDone(_ id: String) -> String? {
        if !done.contains(id) { done.append(id) }
        return save()
    }

    /// Forgets every lesson done and saves.
    mutating func reset() -> String? {
        done = []
        return save()
    }

    /// Writes the file (its folders made with mode 0700, the file 0600); the reason when that fails.
    func save() -> String? {
        guard let path else { return nil }
        var prefix = ""
        for part in path.split(separator: "/").dropLast() {
            prefix += "/" + part
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                return "cannot make \(prefix): \(String(cString: strerror(errno)))"
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "cannot write \(path): \(String(cString: strerror(errno)))" }
        Stdio.writeAll(fd, done.map { $0 + "\n" }.joined())
        close(fd)
        return nil
    }
}
