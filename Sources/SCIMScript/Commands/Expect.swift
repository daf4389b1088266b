import SCIMCore

/// `expect N` / `expect <= N`: guards a pipeline against matching more (or fewer) records than planned.
struct ExpectCommand: BuiltinCommand {
    let name = "expect"
    let signature = CommandSignature(output: .sameRecords).optional(.oneOf(["<=", ">=", "<", ">", "=="]))
        .required(.number)
    let summary = "abort before any write unless the record count is as expected"
    let help = """
        Counts the records reaching it and aborts the pipeline before any of them goes further unless the \
        count is N (or <= N, >= N, < N, > N). Put it before a write to guard a script against a filter that \
        matches more users than you think: find department eq "Sales" | expect <= 40 | delete
        It holds the records until it has seen them all.
        """
    var examples: [CommandExample] {
        [CommandExample(#"find userName eq "bjensen" | expect 1 | count"#, "exactly one user")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        // The signature's check leaves `N` or `OP N`.
        let words = inv.positionals
        let op = words.count == 2 ? words[0].value.displayString : "=="
        guard ["<=", ">=", "<", ">", "==", "="].contains(op) else {
            throw inv.error("expect takes a comparison (<=, >=, <, >, ==) and a number", at: words[0].range)
        }
        guard let last = words.last, let n = last.value.numberValue ?? Double(last.value.displayString), n >= 0,
            n == n.rounded(), n < 1e12
        else {
            throw inv.error("expect needs a number: expect 3, or expect <= 40")
        }
        return ExpectSource(input ?? EmptySource(), op: op, n: Int(n), range: inv.stage.range)
    }
}

final class ExpectSource: RecordSource {
    let upstream: any RecordSource
    let op: String
    let n: Int
    let range: SourceRange
    var held: ArraySource?

    init(_ upstream: any RecordSource, op: String, n: Int, range: SourceRange) {
        self.upstream = upstream
        self.op = op
        self.n = n
        self.range = range
    }

    func next() async throws -> Record? {
        if held == nil {
            var all: [Record] = []
            while let r = try await upstream.next() { all.append(r) }
            let c = all.count
            let ok: Bool
            switch op {
            case "<=": ok = c <= n
            case ">=": ok = c >= n
            case "<": ok = c < n
            case ">": ok = c > n
            default: ok = c == n
            }
            guard ok else {
                throw ScriptError(
                    "expected \(op == "=" || op == "==" ? "" : op + " ")\(n) record\(n == 1 ? "" : "s"), got \(c); "
                        + "stopped before passing any on (nothing was changed by later stages)", range: range)
            }
            held = ArraySource(all)
        }
        return try await held?.next()
    }
}
