import SCIMCore
import SCIMScript
import TOMLKit

#if canImport(Glibc)
    import Glibc
#endif

/// One lesson of the tutorial, read from a file of `tutorial/` (TOML; docs/teaching.md describes the keys).
///
/// A lesson explains, gives a task, and judges the learner's statement by what it did, never by its text: the
/// checks run against the sandbox after each try (``LessonCheck``).
struct Lesson: Sendable, Equatable {
    /// The file name without `.toml` (`01-users`): the lesson's identity in the progress file.
    var id: String
    /// The heading.
    var title: String
    /// The explanation shown before the task.
    var text: String
    /// What to do, in one or two sentences.
    var task: String
    /// A statement that does it (played by `scimsh tutorial verify` and the tests, shown on `answer`).
    var answer: String
    /// Shown after a wrong try.
    var hint: String
    /// Where to read more: RFC 7643/7644 sections.
    var read: [String]
    /// What must hold after the learner's statement; all of them.
    var checks: [LessonCheck]
}

/// One condition a lesson checks after the learner's statement.
///
/// `statement`/`equals` runs a statement against the sandbox with the sandbox's admin token (so whatever the
/// learner set does not matter) and compares its result; the others look at what the learner's statement did.
enum LessonCheck: Sendable, Equatable {
    /// A statement's result must be this text: the value of its one record's one attribute (`find … | count`
    /// gives `{count: N}`, so N), else the number of records it gives.
    case statement(String, equals: String)
    /// The learner's statement printed this text (data, not messages).
    case outputHas(String)
    /// The learner's statement did not print this text.
    case outputLacks(String)
    /// One of the learner's requests, written `METHOD /path?query` (path from the base path on, decoded), contains
    /// this text: `GET /Users/2819c223`.
    case sent(String)
    /// The learner's statement sent at least this many requests.
    case requests(atLeast: Int)
    /// The last response the learner's statement got had this HTTP status.
    case status(Int)
}

/// Why a lesson file cannot be used: the file, and what to fix.
struct LessonError: Error, Equatable, CustomStringConvertible {
    var file: String
    var message: String
    var description: String { "\(file): \(message)" }
}

extension Lesson {
    /// The keys a lesson file may have at the top level.
    static let keys: Set<String> = ["title", "text", "task", "answer", "hint", "read", "check"]
    /// The keys of a `[[check]]` table.
    static let checkKeys: Set<String> = [
        "statement", "equals", "output_has", "output_lacks", "sent", "requests_at_least", "status",
    ]

    /// Reads a lesson from its file's text; `file` is the file's name (`01-users.toml`), which gives the id.
    init(file: String, text source: String) throws(LessonError) {
        func fail(_ message: String) -> LessonError { LessonError(file: file, message: message) }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: source)
        } catch let error as TOMLParseError {
            throw fail("line \(error.source.begin.line): not valid TOML: \(error.description)")
        } catch {
            throw fail("not valid TOML: \(error)")
        }
        for key in table.keys where !Lesson.keys.contains(key) {
            throw fail("unknown key '\(key)' (a lesson has \(Lesson.keys.sorted().joined(separator: ", ")))")
        }
        func text(_ key: String) throws(LessonError) -> String {
            guard let value = table[key] else { throw fail("'\(key)' is missing") }
            guard let s = value.string, !s.trimmingWhitespace().isEmpty else {
                throw fail("'\(key)' must be a non-empty string")
            }
            return s
        }
        id = file.hasSuffix(".toml") ? String(file.dropLast(5)) : file
        title = try text("title")
        self.text = try text("text")
        task = try text("task")
        answer = try text("answer")
        hint = try text("hint")
        read = []
        if let value = table["read"] {
            guard let list = value.array, let strings = Optional(list.compactMap(\.string)),
                strings.count == list.count
            else { throw fail("'read' must be a list of strings: read = [\"RFC 7644 §3.4.2\"]") }
            read = strings
        }
        guard let list = table["check"]?.array, !list.isEmpty else {
            throw fail("a lesson needs at least one [[check]] table")
        }
        checks = []
        for (n, element) in list.enumerated() {
            guard let check = element.table else { throw fail("check \(n + 1) must be a [[check]] table") }
            checks += try Lesson.checks(check, number: n + 1, fail: fail)
        }
    }

    static func checks(
        _ table: TOMLTable, number: Int, fail: (String) -> LessonError
    ) throws(LessonError) -> [LessonCheck] {
        let at = "check \(number)"
        for key in table.keys where !checkKeys.contains(key) {
            throw fail("\(at): unknown key '\(key)' (a check has \(checkKeys.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws(LessonError) -> String? {
            guard let value = table[key] else { return nil }
            guard let s = value.string, !s.isEmpty else { throw fail("\(at): '\(key)' must be a non-empty string") }
            return s
        }
        func int(_ key: String, _ range: ClosedRange<Int>) throws(LessonError) -> Int? {
            guard let value = table[key] else { return nil }
            guard let n = value.int, range.contains(n) else {
                throw fail("\(at): '\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }
        var checks: [LessonCheck] = []
        switch (try string("statement"), try string("equals")) {
        case (let s?, let e?): checks.append(.statement(s, equals: e))
        case (nil, nil): break
        case (_?, nil): throw fail("\(at): 'statement' needs 'equals' (the result it must give)")
        case (nil, _?): throw fail("\(at): 'equals' needs 'statement'")
        }
        if let s = try string("output_has") { checks.append(.outputHas(s)) }
        if let s = try string("output_lacks") { checks.append(.outputLacks(s)) }
        if let s = try string("sent") { checks.append(.sent(s)) }
        if let n = try int("requests_at_least", 1...10_000) { checks.append(.requests(atLeast: n)) }
        if let n = try int("status", 100...599) { checks.append(.status(n)) }
        guard !checks.isEmpty else { throw fail("\(at) is empty: give statement and equals, or output_has, …") }
        return checks
    }

    /// The lessons built into the binary (``embeddedLessonFiles``), in file name order.
    static func builtIn() throws(LessonError) -> [Lesson] {
        var lessons: [Lesson] = []
        for file in embeddedLessonFiles { lessons.append(try Lesson(file: file.name, text: file.text)) }
        return lessons
    }

    /// The lessons in the `.toml` files of a folder, in file name order (a teacher trying lessons out).
    static func load(folder: String) throws(LessonError) -> [Lesson] {
        let names: [String]
        do {
            names = try DirectoryListing.names(in: folder).filter { $0.hasSuffix(".toml") }.sorted()
        } catch {
            throw LessonError(file: folder, message: "cannot list the folder: \(error.message)")
        }
        guard !names.isEmpty else { throw LessonError(file: folder, message: "no lesson files (*.toml) here") }
        var lessons: [Lesson] = []
        for name in names {
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            let text: String
            do {
                text = try FileText.read(path, regularOnly: true)
            } catch {
                throw LessonError(file: path, message: error.message)
            }
            lessons.append(try Lesson(file: name, text: text))
        }
        return lessons
    }
}

/// The names in a folder, with POSIX calls (no Foundation in the command-line tool).
enum DirectoryListing {
    struct Failure: Error { var message: String }

    /// The names in `path`, without `.` and `..`.
    static func names(in path: String) throws(Failure) -> [String] {
        guard let dir = opendir(path) else { throw Failure(message: String(cString: strerror(errno))) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }
}
