import SCIMCore

/// `count`: counts records.
struct CountCommand: BuiltinCommand {
    let name = "count"
    let signature = CommandSignature(output: .value)
    let summary = "count the records (prints the number; passes on {count: N})"
    let help = """
        Counts the input records and passes on one record {"count": N}. Holds nothing but the number. As the last \
        stage it prints the bare number, like wc -l (with output = table, the default); count | table prints \
        the record as a table, and json, jsonl and csv output print the record.
        """
    var examples: [CommandExample] {
        [
            CommandExample("find | count", "how many active users (prints the number)"),
            CommandExample("find | count | table", "the same as a table with the column count"),
        ]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
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
