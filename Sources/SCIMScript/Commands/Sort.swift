import SCIMCore

/// `sort ATTR [desc]...`: sorts records.
struct SortCommand: BuiltinCommand {
    let name = "sort"
    let signature = CommandSignature(output: .sameRecords, repeatsPositionals: true).required(.attribute)
        .optional(.direction)
    let summary = "sort records by attributes"
    let help = """
        Sorts records by one or more attributes (dotted paths work), ascending unless followed by desc. \
        Values compare by their SCIM type: numbers numerically (also when written as text), booleans false \
        first, dateTimes as instants, other strings case-insensitively; records without the attribute come last. \
        Sorting needs every record, so it holds them all in memory.
        """
    var examples: [CommandExample] {
        [CommandExample("find | sort displayName desc", "sorted by display name, Z first")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        var keys: [(path: String, descending: Bool)] = []
        for arg in inv.positionals {
            let word = arg.value.displayString
            if !arg.quoted, ["asc", "desc"].contains(word.lowercased()) {
                guard !keys.isEmpty else { throw inv.error("'\(word)' must follow an attribute name", at: arg.range) }
                keys[keys.count - 1].descending = word.lowercased() == "desc"
            } else {
                keys.append((word, false))
            }
        }
        guard let input else { throw inv.error("sort works on input records: find | sort userName") }
        return SortSource(input, keys: keys)
    }
}

final class SortSource: RecordSource {
    let upstream: any RecordSource
    let keys: [(path: String, descending: Bool)]
    var sorted: ArraySource?

    init(_ upstream: any RecordSource, keys: [(path: String, descending: Bool)]) {
        self.upstream = upstream
        self.keys = keys
    }

    func next() async throws -> Record? {
        if sorted == nil {
            var all: [Record] = []
            while let r = try await upstream.next() { all.append(r) }
            let keys = self.keys
            let order = all.enumerated().sorted { a, b in
                for key in keys {
                    let x = a.element.value(atPath: key.path)
                    let y = b.element.value(atPath: key.path)
                    // Missing values come last in either direction (desc reverses only the values present).
                    switch (x, y) {
                    case (nil, nil): continue
                    case (nil, _): return false
                    case (_, nil): return true
                    case (let x?, let y?):
                        let c = SCIMValueOrder.compare(x, y)
                        if c != 0 { return key.descending ? c > 0 : c < 0 }
                    }
                }
                return a.offset < b.offset
            }
            sorted = ArraySource(order.map(\.element))
        }
        return try await sorted?.next()
    }
}
