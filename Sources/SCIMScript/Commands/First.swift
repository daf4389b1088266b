import SCIMCore

/// `first N`: passes on the first N records and stops reading.
struct FirstCommand: Command {
    let name = "first"
    let signature = CommandSignature(output: .sameRecords, limitsInput: true).optional(.number)
    let summary = "pass on the first N records (stops the listing early)"
    let category = CommandCategory.local
    let help = """
        Passes on the first N records (default 1) and then stops asking for more, so find fetches no \
        further pages. To limit what a write changes, put it before the write: find | first 10 | patch ...
        """
    var examples: [CommandExample] { [CommandExample("find | first 2", "two users, one request")] }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let n = try Counting.count(inv, default: 1, what: "first")
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

enum Counting {
    /// The single whole-number argument of `first N` / `expect N`.
    static func count(_ inv: StageInvocation, default d: Int?, what: String) throws -> Int {
        let pos = inv.positionals
        guard inv.arguments.count == pos.count, pos.count <= 1 else {
            throw inv.error("\(what) takes one number: \(what) 10")
        }
        guard let arg = pos.first else {
            if let d { return d }
            throw inv.error("\(what) needs a number: \(what) 10")
        }
        guard let n = arg.value.numberValue ?? Double(arg.value.displayString), n >= 0, n == n.rounded(), n < 1e12
        else {
            throw inv.error("\(what) needs a whole number, not '\(arg.value.displayString)'", at: arg.range)
        }
        return Int(n)
    }
}
