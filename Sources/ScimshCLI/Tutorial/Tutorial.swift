import LineEditor
import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMScript

/// The guided tutorial: `scimsh tutorial [list | reset | N | verify]`, and `tutorial …` at the prompt.
///
/// Each lesson runs on a sandbox of its own; the learner types statements until the lesson's checks hold, with a
/// hint after each wrong try. Words of its own at the `tutorial>` prompt: `hint`, `answer`, `skip`, `again` (a fresh
/// sandbox for the lesson), `quit` (or Ctrl-D; progress is kept).
struct Tutorial {
    let lessons: [Lesson]
    var progress: TutorialProgress
    let environment: [String: String]
    /// Reads one line after showing a prompt (the REPL's line editor, or plain lines).
    let readLine: (String) -> LineEditor.ReadResult

    /// The usage, for a wrong argument.
    static let usage = "tutorial [list | reset | N | verify [FOLDER]]"

    /// The built-in lessons, with the progress of this environment.
    init(environment: [String: String], readLine: @escaping (String) -> LineEditor.ReadResult) throws(LessonError) {
        lessons = try Lesson.builtIn()
        progress = TutorialProgress(path: TutorialProgress.standardPath(environment: environment))
        self.environment = environment
        self.readLine = readLine
    }

    /// Runs `tutorial ARGS`; the exit status (0, 1 when a lesson fails `verify`, 2 for a wrong argument).
    mutating func run(_ args: [String]) -> Int32 {
        switch args.first?.lowercased() {
        case nil:
            guard let next = progress.next(in: lessons) else {
                Stdio.writeAll(
                    1,
                    "You have done all \(lessons.count) lessons. 'tutorial N' does lesson N again, "
                        + "'tutorial reset' starts over.\n")
                return 0
            }
            return teach(from: next)
        case "list":
            Stdio.writeAll(1, listing())
            return 0
        case "reset":
            if let problem = progress.reset() { return Stdio.fail(problem, 1) }
            Stdio.writeAll(1, "Tutorial progress cleared; 'tutorial' starts at lesson 1.\n")
            return 0
        case "verify":
            guard args.count <= 2 else { return Stdio.fail("usage: tutorial verify [FOLDER]", 2) }
            guard let folder = args.dropFirst().first else { return Tutorial.verify(lessons, environment: environment) }
            do throws(LessonError) {
                return Tutorial.verify(try Lesson.load(folder: folder), environment: environment)
            } catch { return Stdio.fail("\(error)", 2) }
        case let word?:
            guard args.count == 1, let n = Int(word), (1...lessons.count).contains(n) else {
                Stdio.writeAll(
                    2, "scimsh: usage: \(Tutorial.usage) (N from 1 to \(lessons.count); 'tutorial list' lists them)\n")
                return 2
            }
            return teach(from: n - 1)
        }
    }

    /// The lessons, numbered, done ones ticked.
    func listing() -> String {
        var s = ""
        let width = "\(lessons.count)".count
        for (i, lesson) in lessons.enumerated() {
            let number = String(repeating: " ", count: width - "\(i + 1)".count) + "\(i + 1)"
            s += "\(progress.isDone(lesson.id) ? "✓" : " ") \(number). \(lesson.title)\n"
        }
        let done = lessons.filter { progress.isDone($0.id) }.count
        s += "\(done) of \(lessons.count) done. 'tutorial' goes on, 'tutorial N' does lesson N.\n"
        return s
    }

    /// Teaches lessons from `index` on until the learner leaves or the last is done.
    mutating func teach(from index: Int) -> Int32 {
        Stdio.writeAll(
            1,
            "The scimsh tutorial: \(lessons.count) lessons on a sandbox of your own (nothing real is touched).\n"
                + "At the tutorial prompt type statements; also: hint, answer, skip, again, quit.\n")
        var i = index
        while i < lessons.count {
            switch teach(lessons[i], number: i + 1) {
            case .done:
                if let problem = progress.markDone(lessons[i].id) { Stdio.writeAll(2, "scimsh: \(problem)\n") }
                i += 1
            case .skipped:
                i += 1
            case .left:
                Stdio.writeAll(
                    1, "\nProgress kept. 'tutorial' (here or 'scimsh tutorial') goes on at lesson \(i + 1).\n")
                return 0
            case .failedToStart(let message):
                return Stdio.fail("cannot start the lesson's sandbox: \(message)", 1)
            }
        }
        Stdio.writeAll(1, "\nThat was the last lesson. 'tutorial list' shows them all; 'help' lists every command.\n")
        return 0
    }

    enum Outcome {
        case done, skipped, left
        case failedToStart(String)
    }

    /// One lesson: its text, then tries until its checks hold.
    func teach(_ lesson: Lesson, number: Int) -> Outcome {
        let environment = environment
        var run: LessonRun
        let sink = StdioSink()
        func start() -> Result<LessonRun, SandboxStartFailure> {
            Blocking.run { () async -> Result<LessonRun, SandboxStartFailure> in
                do throws(SandboxStartFailure) {
                    return .success(try await LessonRun.start(lesson, sink: sink, environment: environment))
                } catch {
                    return .failure(error)
                }
            }
        }
        switch start() {
        case .success(let r): run = r
        case .failure(let e): return .failedToStart(e.message)
        }
        defer { Blocking.run { [run] in await run.stop() } }
        Stdio.writeAll(1, Tutorial.introduction(lesson, number: number, of: lessons.count))
        var pending = ""
        var tries = 0
        while true {
            let prompt = pending.isEmpty ? "tutorial \(number)> " : "         ..> "
            let text: String
            switch readLine(prompt) {
            case .endOfFile: return .left
            case .interrupted:
                // SIGTERM or SIGHUP end the tutorial (progress is saved as each lesson ends); Ctrl-C clears the line.
                if Interrupts.shared.terminatingSignal != 0 { return .left }
                pending = ""
                continue
            case .line(let line):
                text = pending.isEmpty ? line : pending + "\n" + line
            }
            if run.needsMoreInput(text) {
                pending = text
                continue
            }
            pending = ""
            switch text.trimmingWhitespace().lowercased() {
            case "": continue
            case "quit", "exit", "\\q": return .left
            case "hint":
                Stdio.writeAll(1, "Hint: \(lesson.hint)\n")
                continue
            case "answer":
                Stdio.writeAll(1, "One answer: \(lesson.answer)\n")
                continue
            case "skip", "next": return .skipped
            case "again":
                Blocking.run { [run] in await run.stop() }
                switch start() {
                case .success(let r): run = r
                case .failure(let e): return .failedToStart(e.message)
                }
                Stdio.writeAll(1, "A fresh sandbox for this lesson, with the seed users as they were.\n")
                continue
            default: break
            }
            let verdict = Blocking.run { [run] in await run.attempt(text) }
            sink.flush()
            let basePath = run.server.sandbox.configuration.basePath
            if !verdict.exchanges.isEmpty {
                Stdio.writeAll(
                    1, "Behind it (HTTP):\n" + ExchangeLog.render(verdict.exchanges, basePath: basePath))
            } else if !verdict.requests.isEmpty {
                let lines = verdict.requests.prefix(3).map { "  \($0.method) \($0.uri) → \($0.status)\n" }
                Stdio.writeAll(1, "Behind it (HTTP):\n" + lines.joined())
            }
            if verdict.passed {
                Stdio.writeAll(
                    1,
                    "✓ Lesson \(number) done."
                        + (lesson.read.isEmpty ? "" : " Read: " + lesson.read.joined(separator: "; "))
                        + "\n")
                return .done
            }
            if Interrupts.shared.terminatingSignal != 0 { return .left }
            tries += 1
            Stdio.writeAll(
                1,
                "✗ Not yet: that did not do what the task asks. Hint: \(lesson.hint)\n"
                    + (tries >= 3 ? "(Type 'answer' to see one answer, or 'again' for a fresh sandbox.)\n" : ""))
        }
    }

    /// The lesson's heading, text, reading and task.
    static func introduction(_ lesson: Lesson, number: Int, of count: Int) -> String {
        var s = "\n── Lesson \(number)/\(count): \(lesson.title) ──\n\n"
        s += lesson.text.hasSuffix("\n") ? lesson.text : lesson.text + "\n"
        if !lesson.read.isEmpty { s += "Read: " + lesson.read.joined(separator: "; ") + "\n" }
        s += "\nTask: \(lesson.task)\n"
        return s
    }

    /// Plays every lesson's answer on a fresh sandbox and runs its checks: one line per lesson, and why a
    /// lesson fails. 0 when all pass, 1 otherwise.
    static func verify(_ lessons: [Lesson], environment: [String: String]) -> Int32 {
        var failed = 0
        for (i, lesson) in lessons.enumerated() {
            let outcome: [String] = Blocking.run {
                let run: LessonRun
                do throws(SandboxStartFailure) {
                    run = try await LessonRun.start(lesson, sink: CapturingSink(), environment: environment)
                } catch {
                    return ["cannot start a sandbox: \(error.message)"]
                }
                let verdict = await run.attempt(lesson.answer)
                await run.stop()
                return verdict.failures
            }
            if outcome.isEmpty {
                Stdio.writeAll(1, "ok    \(i + 1). \(lesson.id)\n")
            } else {
                failed += 1
                Stdio.writeAll(1, "FAIL  \(i + 1). \(lesson.id): \(outcome.joined(separator: "; "))\n")
            }
        }
        Stdio.writeAll(1, "\(lessons.count - failed) of \(lessons.count) lessons pass with their answers\n")
        return failed == 0 ? 0 : 1
    }
}

extension Tutorial {
    /// `tutorial ARGS` typed at the prompt: the same as `scimsh tutorial ARGS`, reading lines with the shell's
    /// editor; the shell's own session is left as it was.
    static func atPrompt(_ line: String, editor: LineEditor, environment: [String: String]) {
        let args = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().map(String.init)
        do throws(LessonError) {
            var tutorial = try Tutorial(environment: environment) { prompt in
                let read = editor.readLine(prompt: prompt)
                if case .line(let text) = read { editor.addHistory(text) }
                return read
            }
            _ = tutorial.run(args)
        } catch {
            Stdio.writeAll(2, "scimsh: a built-in lesson is broken: \(error)\n")
        }
    }
}
