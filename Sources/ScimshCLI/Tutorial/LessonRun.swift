import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMScript

#if canImport(Glibc)
    import Glibc
#endif

/// One lesson being done: a sandbox of its own (so every lesson starts from the seed users), the learner's
/// interpreter on it, a second interpreter that runs the checks, and the exchanges of the learner's statements.
final class LessonRun: Sendable {
    let lesson: Lesson
    let server: SandboxServer
    let learner: Interpreter
    let checker: Interpreter
    let output: TeeSink
    let exchanges = ExchangeLog()
    let journalPath: String?

    /// What one try did: whether every check held, which did not (for `tutorial verify`), the exchanges.
    struct Verdict: Sendable {
        var passed: Bool
        var failures: [String]
        var exchanges: [ExchangeLog.Entry]
        /// The sandbox's own record of the requests (method, target, status), for when an exchange was not seen.
        var requests: [SandboxRequest]
    }

    private init(
        lesson: Lesson, server: SandboxServer, sink: any OutputSink, environment: [String: String],
        journalPath: String?
    ) {
        self.lesson = lesson
        self.server = server
        self.journalPath = journalPath
        output = TeeSink(sink)
        var session = Session()
        session.connect(to: server)
        learner = Interpreter(
            sink: output, environment: environment, interactive: false, session: session, journalPath: journalPath)
        checker = Interpreter(
            sink: CapturingSink(), environment: environment, interactive: false, session: session,
            journalPath: journalPath)
    }

    /// Starts the lesson's sandbox; the learner's output goes to `sink`.
    static func start(
        _ lesson: Lesson, sink: any OutputSink, environment: [String: String]
    ) async throws(SandboxStartFailure) -> LessonRun {
        let server: SandboxServer
        do {
            server = try await SandboxServer.start(SandboxConfiguration(port: 0))
        } catch {
            throw SandboxStartFailure(message: "\(error)")
        }
        let journal = SandboxJournal.makePath(environment: environment)
        return LessonRun(
            lesson: lesson, server: server, sink: sink, environment: environment, journalPath: journal)
    }

    /// Stops the sandbox and removes the lesson's journal.
    func stop() async {
        await learner.shutdown()
        await checker.shutdown()
        await server.stop()
        if let journalPath { SandboxJournal.remove(journalPath) }
    }

    /// Whether `text` is an unfinished statement (an open string, a trailing `|`): read another line.
    func needsMoreInput(_ text: String) -> Bool { learner.needsMoreInput(text) }

    /// Runs the learner's statement(s), then the lesson's checks.
    func attempt(_ text: String) async -> Verdict {
        output.startCapture()
        exchanges.clear()
        server.clearLog()
        // `set token = …` drops the interpreter's observer with its client, so it is handed over before each try.
        learner.setObserver(exchanges)
        _ = await learner.run(text, name: "<tutorial>")
        let printed = output.stopCapture()
        let requests = server.requestLog()
        let seen = exchanges.entries
        var failures: [String] = []
        for check in lesson.checks {
            if let failure = await judge(check, printed: printed, requests: requests) { failures.append(failure) }
        }
        return Verdict(passed: failures.isEmpty, failures: failures, exchanges: seen, requests: requests)
    }

    /// Why a check does not hold, or `nil` when it does.
    func judge(_ check: LessonCheck, printed: String, requests: [SandboxRequest]) async -> String? {
        switch check {
        case .statement(let statement, let expected):
            let got: String
            do {
                got = LessonRun.result(try await checker.evaluate(statement, name: "<check>"))
            } catch {
                return "the check '\(statement)' failed: \(error)"
            }
            return got == expected ? nil : "'\(statement)' gives \(got), not \(expected)"
        case .outputHas(let text):
            return printed.contains(text) ? nil : "the output does not show '\(text)'"
        case .outputLacks(let text):
            return printed.contains(text) ? "the output shows '\(text)'" : nil
        case .sent(let text):
            let sent = requests.map {
                "\($0.method) \(ExchangeLog.readable($0.uri, basePath: server.sandbox.configuration.basePath))"
            }
            return sent.contains { $0.contains(text) }
                ? nil : "no request like '\(text)' (sent: \(sent.isEmpty ? "none" : sent.joined(separator: "; ")))"
        case .requests(let minimum):
            return requests.count >= minimum ? nil : "\(requests.count) requests, not at least \(minimum)"
        case .status(let status):
            guard let last = requests.last else { return "no request was sent (expected an answer \(status))" }
            return last.status == status ? nil : "the last answer was \(last.status), not \(status)"
        }
    }

    /// A check statement's result as text: its one record's one value, else how many records.
    static func result(_ records: [Record]) -> String {
        if records.count == 1, let only = records.first, only.count == 1, let key = only.keys.first,
            let value = only[key]
        {
            return value.displayString
        }
        return "\(records.count)"
    }
}

/// Passes everything on to another sink and, while capturing, keeps a copy of the data (the learner's output).
final class TeeSink: OutputSink {
    let next: any OutputSink
    private let captured = LockedValue<String?>(nil)

    init(_ next: any OutputSink) { self.next = next }

    func startCapture() { captured.withLock { $0 = "" } }

    /// The data written since ``startCapture()``.
    func stopCapture() -> String {
        captured.withLock { c in
            defer { c = nil }; return c ?? ""
        }
    }

    func writeData(_ text: String) {
        captured.withLock { $0? += text }
        next.writeData(text)
    }
    func writeMessage(_ text: String) { next.writeMessage(text) }
    func progress(_ line: String?) { next.progress(line) }
    var colorMessages: Bool { next.colorMessages }
    func statementFinished() { next.statementFinished() }
}

/// The HTTP exchanges of a try, as the client saw them (headers with credentials masked).
final class ExchangeLog: HTTPExchangeObserver {
    /// One request and its answer (`nil` when it failed without one).
    struct Entry: Sendable {
        var request: HTTPRequestData
        var response: HTTPResponseData?
    }

    private let list = LockedValue<[Entry]>([])

    var entries: [Entry] { list.withLock { $0 } }
    func clear() { list.withLock { $0 = [] } }

    func willSend(_ request: HTTPRequestData, attempt: Int) {}
    func didReceive(_ response: HTTPResponseData, for request: HTTPRequestData, duration: Duration) {
        list.withLock { $0.append(Entry(request: request, response: response)) }
    }
    func didFail(_ reason: String, for request: HTTPRequestData, duration: Duration) {
        list.withLock { $0.append(Entry(request: request, response: nil)) }
    }

    /// A request target from the base path on, percent-decoded: `/Users?filter=userName eq "bjensen"`.
    static func readable(_ target: String, basePath: String) -> String {
        var path = Substring(target)
        if let scheme = path.firstRange(of: "://"), let slash = path[scheme.upperBound...].firstIndex(of: "/") {
            path = path[slash...]
        }
        if path.hasPrefix(basePath) { path = path.dropFirst(basePath.count) }
        return ProxySettings.percentDecoded(path)
    }

    /// The exchanges as a person reads them: request line, credential header masked, bodies cut short.
    static func render(_ entries: [Entry], basePath: String, limit: Int = 3) -> String {
        var s = ""
        for e in entries.prefix(limit) {
            s += "  > \(e.request.method) \(basePath)\(readable(e.request.url, basePath: basePath))\n"
            for h in e.request.maskedHeaders
            where ["authorization", "genestack-api-token", "content-type"].contains(h.name.lowercased()) {
                s += "  > \(h.name): \(h.value)\n"
            }
            if let body = e.request.body, !body.isEmpty { s += "  > " + short(body) + "\n" }
            guard let r = e.response else {
                s += "  < (no answer)\n"
                continue
            }
            s += "  < \(r.status) \(HTTPStatusText.reason(r.status))\n"
            if let location = r.header("Location") { s += "  < Location: \(location)\n" }
            if !r.body.isEmpty { s += "  < " + short(r.body) + "\n" }
        }
        if entries.count > limit { s += "  … and \(entries.count - limit) more exchanges like these\n" }
        return s
    }

    /// A body on one line (compact JSON when it is JSON), at most `max` characters.
    static func short(_ body: [UInt8], max: Int = 160) -> String {
        let text =
            (try? JSONParser.parse(body)).map { JSONEncoderFast.encode($0) } ?? String(decoding: body, as: UTF8.self)
        let line = OneLineText.flatten(text)
        return line.count > max ? String(line.prefix(max)) + "…" : line
    }
}

enum OneLineText {
    /// Newlines and tabs as spaces.
    static func flatten(_ s: String) -> String {
        String(s.map { $0 == "\n" || $0 == "\r" || $0 == "\t" ? " " : $0 })
    }
}
