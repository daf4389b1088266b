import SCIMCore

/// `first N`: passes on the first N records and stops reading.
struct FirstCommand: BuiltinCommand {
    let name = "first"
    let signature = CommandSignature(output: .sameRecords, limitsInput: true).optional(.number)
    let summary = "pass on the first N records (stops the listing early)"
    let help = """
        Passes on the first N records (default 1) and then stops asking for more, so find fetches no \
        further pages. To limit what a write changes, put it before the write: find | first 10 | patch ...
        """
    var examples: [CommandExample] { [CommandExample("find | first 2", "two users, one request")] }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        var n = 1
        if let arg = inv.positionals.first {
            guard let v = arg.value.numberValue ?? Double(arg.value.displayString), v >= 0, v == v.rounded(), v < 1e12
            else { throw inv.error("first needs a whole number, not '\(arg.value.displayString)'", at: arg.range) }
            n = Int(v)
        }
        guard let input else { throw inv.error("first works on input records: find | first 10") }
        return FirstSource(input, n)
    }
}

final class FirstSource: RecordSource {
    let upstream: any RecordSource
    let limit: Int
    var taken = 0

    init(_ upstream: any RecordSource, _ limit: Int) {
        self.upstream = upstream
        self.limit = limit
    }

    func next() async throws -> Record? {
        guard taken < limit else { return nil }
        guard let r = try await upstream.next() else { return nil }
        taken += 1
        return r
    }
}
