import SCIMCore

/// `count`: counts records.
struct CountCommand: Command {
    let name = "count"
    let signature = CommandSignature()
    let summary = "count the records (one record: {count: N})"
    let category = CommandCategory.local
    let help = "Counts the input records and passes on one record {\"count\": N}. Holds nothing but the number."
    var examples: [CommandExample] { [CommandExample("find | count", "how many active users")] }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        guard inv.arguments.isEmpty else { throw inv.error("count takes no arguments") }
        return CountSource(input ?? EmptySource())
    }
}

final class CountSource: RecordSource {
    let upstream: any RecordSource
    var done = false

    init(_ upstream: any RecordSource) { self.upstream = upstream }

    func next() async throws -> Record? {
        guard !done else { return nil }
        done = true
        var n = 0
        while try await upstream.next() != nil { n += 1 }
        return JSONObject([("count", .number(Double(n)))])
    }
}
