import SCIMClient
import SCIMCore

/// What a write stage does to one record, for running it, planning it (dry run, confirmation) and journaling it.
struct WriteSpec: Sendable {
    /// The journal's name for the operation: create, patch, delete, undo (get sends no write).
    var op: String
    /// Past tense for summaries: "patched".
    var verb: String
    /// Whether it changes the server (false for get).
    var sendsWrites: Bool
    /// The record as it will be after the write, for plans; `nil` when it cannot be predicted.
    var predict: @Sendable (Record) -> Record?
    /// Performs the write and returns what to pass on.
    var perform: @Sendable (Record) async throws -> Record?
    /// The user as it is on the server before the write, for the journal and for plans. With `readOnly` (a dry
    /// run, the confirmation plan) it must send no request that can change anything.
    var before: @Sendable (_ record: Record, _ readOnly: Bool) async -> BeforeImage = { _, _ in .none }
    /// Which attributes the journal keeps of the user before and after the write (what undo can put back).
    var imageScope: Journal.ImageScope = .editable(plus: [])
    /// Whether the prompt asks before even one write (a delete that removes users for good).
    var confirmsAlways = false
    /// Whether the write gets the user as the server has it with the input on top (delete passes the whole user
    /// on), rather than the input as given.
    var mergesBeforeImage = false
    /// Whether plans read the user from the server first (not for create: that user is new).
    var plansReadServer = true
    /// What one write is to, for summaries and plans: "user", "group", "membership".
    var noun: String = "user"

    /// `3 users`, `1 group`.
    func count(_ n: Int) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// A before-image from the input record when it is a whole user, else fetched by id.
    ///
    /// ODM's GET answers 404 for deactivated users, yet PATCH reaches them and answers with the whole user, and
    /// ODM ignores attributes it does not know. Under the ODM dialect such a user is therefore read for the
    /// journal with a PATCH of one unknown attribute, which changes nothing, so that undo can restore it too. A
    /// plan sends no PATCH: there the before-image is unknown.
    static func recordOrFetched(
        _ client: SCIMClient, dialect: Dialect
    ) -> @Sendable (Record, Bool) async -> BeforeImage {
        { record, readOnly in
            // A user as the server sent it (find, get) carries meta; an imported record holds new values.
            if record["meta"] != nil { return .user(record) }
            guard let id = record["id"]?.stringValue else { return .none }
            do {
                return .user(try await client.getUser(id: id).attributes)
            } catch {
                guard (error as? SCIMError)?.status == 404, dialect == .odm else { return .none }
                guard !readOnly else { return .unknown("ODM hides deactivated users from GET") }
                let probe = PatchOperation(op: .add, path: "urn:scimsh:readBack", value: .bool(true))
                return (try? await client.patchUser(id: id, operations: [probe]).attributes).map { .user($0) } ?? .none
            }
        }
    }
}

extension StageInvocation {
    /// A stage that writes each user of `input` with the machinery of the built-in writes: `concurrency` requests
    /// at once with the order kept, an error report per user, progress and a summary (`copied 3 users`), the
    /// journal (so `undo` can revert it), the confirmation plan at the prompt and dry runs, which send no write and
    /// print `would OPERATION user …: before → after` from `predict`.
    ///
    /// - Parameters:
    ///   - operation: the journal's and the plan's name for the write (`copy`).
    ///   - pastTense: for the summary (`copied`).
    ///   - predict: the user as it will be after the write, or `nil` when that cannot be known; it sends nothing.
    ///   - perform: sends the write for one user and returns what to pass on (usually the user the server returns).
    public func writeStage(
        _ input: any RecordSource, operation: String, pastTense: String,
        predict: @escaping @Sendable (Record) -> Record?,
        perform: @escaping @Sendable (Record) async throws -> Record?
    ) throws -> any RecordSource {
        let spec = WriteSpec(
            op: operation, verb: pastTense, sendsWrites: true, predict: predict, perform: perform,
            before: WriteSpec.recordOrFetched(try context.client(), dialect: context.dialect))
        return WriteStage(upstream: input, context: context, spec: spec, range: stage.range)
    }
}

extension StageInvocation {
    /// A stage that reads one thing per input record (get, lookup, members) with the machinery of the writes:
    /// `concurrency` requests at once with the order kept and an error report per record, but no summary.
    func readStage(
        _ upstream: any RecordSource, op: String, verb: String,
        perform: @escaping @Sendable (Record) async throws -> Record?
    ) -> WriteStage {
        let spec = WriteSpec(op: op, verb: verb, sendsWrites: false, predict: { $0 }, perform: perform)
        let made = WriteStage(upstream: upstream, context: context, spec: spec, range: stage.range)
        made.quiet = true
        return made
    }
}

/// A user's state before a write, as far as it can be read.
enum BeforeImage: Sendable {
    /// The user as the server has it.
    case user(Record)
    /// No such user (yet), or it could not be read.
    case none
    /// It could not be read without a request that might change something; the reason, for plans.
    case unknown(String)

    /// The user, when known.
    var record: Record? {
        if case .user(let r) = self { return r }
        return nil
    }
}

/// What the write stages share: concurrency with order kept, per-record error reports, a live progress line,
/// the summary, dry runs, the confirmation at the prompt, and the journal.
///
/// Ctrl-C stops new requests; requests already sent are allowed to finish, so the summary and the journal say
/// exactly what the server got.
final class WriteStage: RecordSource {
    let upstream: any RecordSource
    let context: PipelineContext
    let spec: WriteSpec
    let range: SourceRange
    let done = Locked<Int>(0)
    /// Whether this stage has printed its hint for a failure (`Session.hint(for:)`).
    let hinted = Locked<Bool>(false)
    /// Failures of this stage (the pipeline's counter also holds those of other stages).
    let failedHere = Locked<Int>(0)
    /// Why the stage stopped sending (``StopReason``): set by the first failure every later request would
    /// share (the server unreachable, 401, 403).
    let stopped = Locked<String?>(nil)
    let start = ContinuousClock.now
    var inner: OrderedConcurrentSource?
    /// The concurrency as the server's 429/503 answers and latency allow (up to `concurrency`).
    var adaptive: AdaptiveConcurrency?
    var finished = false
    var quiet = false
    var dryRun: (count: Int, shown: Int)?

    init(upstream: any RecordSource, context: PipelineContext, spec: WriteSpec, range: SourceRange) {
        self.upstream = upstream
        self.context = context
        self.spec = spec
        self.range = range
    }

    /// The message of an error from a record's operation.
    static func text(of error: any Error) -> String {
        if let e = error as? ScriptError { return e.message }
        if let e = error as? SCIMError { return e.description }
        return "\(error)"
    }

    /// `user bjensen (2819c223-…)` for messages; `user bjensen (…) in group Engineering` for a membership change,
    /// `group Engineering (…)` for a group (see ``GroupRecords``).
    static func describe(_ record: Record) -> String {
        if let group = record["group"]?.stringValue {
            guard record["member"] != nil else { return "group \(group) (\(record["id"]?.stringValue ?? "new"))" }
            return describe(GroupRecords.user(record)) + " in group \(group)"
        }
        let name = record["userName"]?.stringValue
        let id = record["id"]?.stringValue
        switch (name, id) {
        case (let n?, let i?): return "user \(n) (\(i))"
        case (let n?, nil): return "user \(n)"
        case (nil, let i?): return "user \(i)"
        default: return "record \(JSONEncoderFast.encode(.object(record)).prefix(60))"
        }
    }

    /// `displayName: "Barbara Jensen" → "B. Jensen", active: true → false`; with `unknown`, the reason the
    /// before-image could not be read comes first (`before-image unknown: …; displayName: (none) → "B"`).
    static func diff(_ before: Record, _ after: Record?, _ unknown: String? = nil) -> String {
        if let unknown { return "before-image unknown: \(unknown); " + diff(before, after) }
        guard let after else { return "(result unknown until sent)" }
        var changes: [String] = []
        var keys = Journal.editable
        for k in after.keys where !keys.contains(where: { $0.lowercased() == k.lowercased() }) && k != "meta" {
            keys.append(k)
        }
        for k in keys {
            let b = before[k]
            let a = after[k]
            if b != a {
                changes.append(
                    "\(k): \(b.map { JSONEncoderFast.encode($0) } ?? "(none)") → \(a.map { JSONEncoderFast.encode($0) } ?? "(none)")"
                )
            }
        }
        return changes.isEmpty ? "no change" : changes.joined(separator: ", ")
    }

    func next() async throws -> Record? {
        if inner == nil, dryRun == nil {
            if spec.sendsWrites, context.dryRun {
                dryRun = (0, 0)
            } else {
                try await prepare()
            }
        }
        if dryRun != nil { return try await nextDryRun() }
        guard let inner else { return nil }
        do {
            let r = try await inner.next()
            // Every further request would fail the same way: start none (those under way finish).
            if stopped.current != nil { inner.cancelAll() }
            if let r { return r }
        } catch {
            await inner.settle()
            let cancelled = error is CancellationError || Task.isCancelled
            // An earlier stage failed before this one did anything: its error says it all.
            if !cancelled, done.current == 0 { finished = true }
            summarize(cancelled: cancelled)
            throw error
        }
        summarize(cancelled: false)
        return nil
    }

    func nextDryRun() async throws -> Record? {
        guard var state = dryRun else { return nil }
        guard let r = try await upstream.next() else {
            if !finished {
                finished = true
                context.message(
                    "dry run: would have \(spec.verb) \(spec.count(state.count)); nothing was sent"
                )
            }
            return nil
        }
        state.count += 1
        let (current, predicted, unknown) = await plan(r, fetch: state.shown < 20)
        if state.shown < 20 {
            context.message(
                "would \(spec.op) \(WriteStage.describe(current)): \(WriteStage.diff(current, predicted, unknown))")
            state.shown += 1
        } else if state.shown == 20 {
            context.message("…")
            state.shown += 1
        }
        dryRun = state
        return predicted ?? r
    }

    /// The user as it is now and as it will be after the write, for plans. A record that is not a user as the
    /// server sent it (an imported row) is read from the server first when `fetch` is true, with reads only;
    /// `unknown` says why the user could not be read that way.
    func plan(_ r: Record, fetch: Bool) async -> (current: Record, predicted: Record?, unknown: String?) {
        var current = r
        var unknown: String?
        if r["meta"] == nil, fetch, spec.plansReadServer {
            switch await spec.before(r, true) {
            case .user(let fetched): current = fetched
            case .unknown(let why): unknown = why
            case .none: break
            }
        }
        let input = current == r ? r : WriteStage.merge(current, r)
        return (current, spec.predict(input), unknown)
    }

    /// Sets up the concurrent machinery, after asking for confirmation at the prompt when the change is big.
    func prepare() async throws {
        var source = upstream
        if spec.sendsWrites, context.interactive, let confirm = context.confirm {
            var held: [Record] = []
            while let r = try await upstream.next() { held.append(r) }
            let threshold =
                spec.confirmsAlways ? 0 : context.session.int("confirm_above", default: 1, range: 0...Int.max)
            if held.count > threshold {
                var plan = "\(spec.op) \(spec.count(held.count)):\n"
                for r in held.prefix(5) {
                    let (current, predicted, unknown) = await self.plan(r, fetch: true)
                    plan += "  \(WriteStage.describe(current)): \(WriteStage.diff(current, predicted, unknown))\n"
                }
                if held.count > 5 { plan += "  … and \(held.count - 5) more\n" }
                context.sink.writeMessage(context.session.scrub(plan))
                guard await confirm("apply to \(spec.count(held.count))? [y/N] ") else {
                    context.message("nothing changed")
                    finished = true
                    inner = OrderedConcurrentSource(EmptySource(), concurrency: 1) { _ in .skipped }
                    quiet = true
                    return
                }
            }
            source = ArraySource(held)
        }
        let mutations = context.mutations
        let done = self.done
        let failedHere = self.failedHere
        let hinted = self.hinted
        let stopped = self.stopped
        let sink = context.sink
        let start = self.start
        let ctx = context
        let spec = self.spec
        let journal = spec.sendsWrites ? context.journal : nil
        let statement = context.statement
        let enqueue: (@Sendable () -> Void)? = spec.sendsWrites ? { @Sendable in mutations.enqueue() } : nil
        let total = Locked<Int?>(nil)
        let lastDrawn = Locked<ContinuousClock.Instant?>(nil)
        let adaptive = AdaptiveConcurrency(maximum: context.concurrency)
        self.adaptive = adaptive
        inner = OrderedConcurrentSource(
            TotalWatcher(source, total: total), concurrency: context.concurrency, onEnqueue: enqueue
        ) { record in
            // OrderedConcurrentSource skips records not started when Ctrl-C comes and never cancels a running
            // one, so a request once sent completes and the journal and the summary match what the server got.
            if stopped.current != nil { return .skipped }
            let (outcome, sent) = await adaptive.run {
                await WriteStage.performOne(
                    record, spec: spec, context: ctx, journal: journal, statement: statement, hinted: hinted,
                    stopped: stopped)
            }
            mutations.end()
            // Withdrawn before it left (Ctrl-C while it waited for a connection): like an operation not started.
            guard sent else { return outcome }
            if case .failed = outcome { failedHere.withLock { $0 += 1 } }
            let n = done.withLock { d -> Int in
                d += 1
                return d
            }
            // A long statement redraws its progress line (terminals only) at most five times a second.
            let now = ContinuousClock.now
            if now - start > .seconds(1) {
                let due = lastDrawn.withLock { last -> Bool in
                    guard last.map({ now - $0 >= .milliseconds(200) }) ?? true else { return false }
                    last = now
                    return true
                }
                if due {
                    let pace = adaptive.throttledCount > 0 ? " · concurrency \(adaptive.limits.now)" : ""
                    let line = ProgressLine.text(
                        verb: spec.verb, noun: spec.noun, done: n, total: total.current, failed: failedHere.current,
                        elapsed: now - start)
                    sink.progress(line + pace)
                }
            }
            return outcome
        }
    }

    /// Performs one record's write with its journal lines and error report. `sent` is false when the request
    /// was withdrawn before it left (the stage was interrupted while it waited for a connection).
    static func performOne(
        _ record: Record, spec: WriteSpec, context: PipelineContext, journal: Journal?, statement: StatementInfo?,
        hinted: Locked<Bool>? = nil, stopped: Locked<String?>? = nil
    ) async -> (outcome: StageOutcome, sent: Bool) {
        let before: Record? =
            journal == nil ? (record["meta"] != nil ? record : nil) : await spec.before(record, false).record
        var entry: JournalWrite?
        if let journal, let statement {
            let e = JournalWrite(
                statementNumber: statement.number, statement: statement.text, host: statement.host, op: spec.op,
                id: record["id"]?.stringValue ?? before?["id"]?.stringValue,
                userName: before?["userName"]?.stringValue ?? record["userName"]?.stringValue,
                before: before, scope: spec.imageScope)
            do {
                try journal.append(line: e.line(phase: "begin", after: nil, outcome: nil))
            } catch {
                context.mutations.fail()
                context.message("error: \(describe(record)): not sent: \(text(of: error))")
                return (.failed, true)
            }
            entry = e
        }
        do {
            let input = spec.mergesBeforeImage ? (before.map { merge($0, record) } ?? record) : record
            let notes = RequestNotes()
            // A write after a read sends If-Match with the version read (where the server versions users).
            let expected = context.expectedVersion(of: before, record)
            let out = try await RequestNotes.$current.withValue(notes) {
                try await ExpectedVersion.$current.withValue(expected) { try await spec.perform(input) }
            }
            if let journal, var e = entry {
                if e.id == nil { e.id = out?["id"]?.stringValue }
                let note = notes.tokenRefreshed ? "the token had expired (401); token_command gave a fresh one" : nil
                try? journal.append(
                    line: e.line(phase: "end", after: out, outcome: "ok", note: note), deferrable: true)
            }
            if let out {
                context.seen?.note(out)
                return (.record(out), true)
            }
            return (.skipped, true)
        } catch let error as SCIMError where error.isCancelled && Withdrawal.current?.isWithdrawn == true {
            // Only a request that never left is withdrawn (the client does not withdraw after a send).
            if let journal, let e = entry {
                try? journal.append(line: e.line(phase: "end", after: nil, outcome: "not sent"), deferrable: true)
            }
            return (.skipped, false)
        } catch {
            // Sent, and its answer lost: the server may have applied it (undo reads the user first).
            let unknown = (error as? SCIMError)?.mayHaveApplied == true && spec.sendsWrites
            if let journal, let e = entry {
                let outcome = (unknown ? "unknown: " : "failed: ") + text(of: error)
                try? journal.append(line: e.line(phase: "end", after: nil, outcome: outcome), deferrable: true)
            }
            context.mutations.fail()
            // The first failure that every later request would share stops the stage; the others say nothing.
            if let stopped, let reason = StopReason.of(error) {
                let first = stopped.withLock { (r: inout String?) -> Bool in
                    defer { r = r ?? reason }
                    return r == nil
                }
                Withdrawal.current?.withdraw()
                guard first else { return (.failed, true) }
            }
            let who = before ?? (record["userName"] == nil ? spec.predict(record) ?? record : record)
            let fate = unknown ? " (the request reached the server and its answer was lost: outcome unknown)" : ""
            let why = (error as? SCIMError)?.preconditionExplanation.map { "; " + $0 } ?? ""
            context.message("error: \(describe(who)): \(text(of: error))\(fate)\(why)")
            // A hint (how to set a token) once per stage, not once per user.
            if let e = error as? SCIMError, let hint = context.session.hint(for: e) {
                let first =
                    hinted?.withLock { (shown: inout Bool) -> Bool in
                        defer { shown = true }
                        return !shown
                    } ?? true
                if first { context.message(hint) }
            }
            return (.failed, true)
        }
    }

    /// The fetched user with the input record's fields on top (the input may carry changes to apply).
    static func merge(_ fetched: Record, _ input: Record) -> Record {
        var out = fetched
        for (k, v) in input { out[k] = v }
        return out
    }

    func summarize(cancelled: Bool) {
        guard !finished else { return }
        finished = true
        context.sink.progress(nil)
        context.journal?.sync()
        let failed = failedHere.current
        let ok = done.current - failed
        if quiet, failed == 0, !cancelled { return }
        var s = cancelled ? "interrupted: " : ""
        s += "\(spec.verb) \(spec.count(ok))"
        if failed > 0 { s += ", \(failed) failed" }
        if let reason = stopped.current { s += "; stopped: \(reason), so the rest were not sent" }
        context.message(s + (adaptive?.summary ?? ""))
    }
}

/// Failures that every later request of a statement would share, so a bulk write stops at the first.
enum StopReason {
    /// Why the stage stops after `error` (`nil` for a failure of one user: a 404, a 400, a 409).
    static func of(_ error: any Error) -> String? {
        guard let e = error as? SCIMError else { return nil }
        if e.isTransportError { return "the server cannot be reached" }
        switch e.status {
        case 401: return "the server refused the credentials (401)"
        case 403: return "the server refused the request for lack of permission (403)"
        default: return nil
        }
    }
}

/// Turns argument values into attribute values.
enum AttributeValues {
    /// The value for an attribute: quoted text stays a string, `true`/`false`/numbers/`null` are JSON values.
    /// For `active`, the unquoted words "true"/"false"/"yes"/"no" (as CSV files hold them) become Booleans.
    static func typed(_ name: String, _ value: JSONValue, quoted: Bool) -> JSONValue {
        if !quoted, name.lowercased() == "active", case .string(let s) = value {
            switch s.lowercased() {
            case "true", "yes", "1": return .bool(true)
            case "false", "no", "0": return .bool(false)
            default: return value
            }
        }
        return value
    }

    /// The `emails` value ODM expects for one address: `[{type: work, value, primary: true}]`.
    static func emails(_ address: String) -> JSONValue {
        .array([.object(JSONObject([("type", "work"), ("value", .string(address)), ("primary", true)]))])
    }
}

/// Passes records on and keeps the total its upstream expects (when it knows one) where the progress line reads it.
final class TotalWatcher: RecordSource {
    let upstream: any RecordSource
    let total: Locked<Int?>

    init(_ upstream: any RecordSource, total: Locked<Int?>) {
        self.upstream = upstream
        self.total = total
    }

    func next() async throws -> Record? {
        let record = try await upstream.next()
        if let counted = upstream as? any CountedSource, let n = counted.expectedCount {
            total.withLock { $0 = n }
        }
        return record
    }
}

/// The live line of a long write: `patched 1,204/10,000 users · 348/s · 25 s left`.
public enum ProgressLine {
    /// The line for `done` writes of `total` (when known) after `elapsed`, counted in `noun`s (user, membership);
    /// failures are named when there are any.
    public static func text(
        verb: String, noun: String = "user", done: Int, total: Int?, failed: Int, elapsed: Duration
    ) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var s = "\(verb) \(grouped(done))"
        if let total, total >= done { s += "/\(grouped(total))" }
        s += " \(noun)\((total ?? done) == 1 ? "" : "s")"
        if failed > 0 { s += " (\(grouped(failed)) failed)" }
        s += " · \(grouped(Int(rate.rounded())))/s"
        if let total, total >= done, rate > 0 {
            s += " · \(duration(Double(total - done) / rate)) left"
        }
        return s
    }

    /// `1,204`.
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `25 s`, `3 min 10 s`, `2 h 5 min`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \((s % 3600) / 60) min"
    }
}
