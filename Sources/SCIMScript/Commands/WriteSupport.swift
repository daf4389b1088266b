import SCIMClient
import SCIMCore

/// What the write stages share: concurrency, per-record error reports, a live progress line, the summary.
final class WriteStage: RecordSource {
    let inner: OrderedConcurrentSource
    let context: PipelineContext
    let verb: String
    let done = Locked<Int>(0)
    let start = ContinuousClock.now
    var finished = false

    /// A write stage applying `operation` to each input record; `verb` is the past tense for the summary.
    init(
        upstream: any RecordSource, context: PipelineContext, verb: String,
        operation: @escaping @Sendable (Record) async throws -> Record?
    ) {
        self.context = context
        self.verb = verb
        let mutations = context.mutations
        let done = self.done
        let sink = context.sink
        let start = self.start
        let ctx = context
        inner = OrderedConcurrentSource(upstream, concurrency: context.concurrency) { record in
            mutations.begin()
            defer { mutations.end() }
            let outcome: StageOutcome
            do {
                if let out = try await operation(record) {
                    ctx.seen?.note(out)
                    outcome = .record(out)
                } else {
                    outcome = .skipped
                }
            } catch {
                if Task.isCancelled { return .skipped }
                mutations.fail()
                ctx.message("error: \(WriteStage.describe(record)): \(WriteStage.text(of: error))")
                outcome = .failed
            }
            let n = done.withLock { d -> Int in
                d += 1
                return d
            }
            let elapsed = ContinuousClock.now - start
            if elapsed > .seconds(1), n % 10 == 0 {
                let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let rate = secs > 0 ? Int(Double(n) / secs) : 0
                let failed = mutations.failedCount
                sink.progress("\(verb) \(n) users, \(failed) failed (\(rate)/s)")
            }
            return outcome
        }
    }

    /// The message of an error from a record's operation.
    static func text(of error: any Error) -> String {
        if let e = error as? ScriptError { return e.message }
        if let e = error as? SCIMError { return e.description }
        return "\(error)"
    }

    /// `user bjensen (2819c223-…)` for messages.
    static func describe(_ record: Record) -> String {
        let name = record["userName"]?.stringValue
        let id = record["id"]?.stringValue
        switch (name, id) {
        case (let n?, let i?): return "user \(n) (\(i))"
        case (let n?, nil): return "user \(n)"
        case (nil, let i?): return "user \(i)"
        default: return "record \(JSONEncoderFast.encode(.object(record)).prefix(60))"
        }
    }

    func next() async throws -> Record? {
        do {
            if let r = try await inner.next() { return r }
        } catch {
            await inner.settle()
            summarize(cancelled: true)
            throw error
        }
        summarize(cancelled: false)
        return nil
    }

    func summarize(cancelled: Bool) {
        guard !finished else { return }
        finished = true
        context.sink.progress(nil)
        let failed = context.mutations.failedCount
        let ok = done.current - failed
        var s = cancelled ? "interrupted: " : ""
        s += "\(verb) \(ok) user\(ok == 1 ? "" : "s")"
        if failed > 0 { s += ", \(failed) failed" }
        context.message(s)
    }
}

extension SCIMError {
    /// The error as a script error (secrets are scrubbed by the caller's context).
    var scriptError: ScriptError { ScriptError(description) }
}

/// Turns argument values into attribute values.
enum AttributeValues {
    /// The value for an attribute: quoted text stays a string, `true`/`false`/numbers/`null` are JSON values.
    /// For `active`, the strings "true"/"false" (from CSV files) become Booleans.
    static func typed(_ name: String, _ value: JSONValue, quoted: Bool) -> JSONValue {
        if name.lowercased() == "active", case .string(let s) = value {
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
