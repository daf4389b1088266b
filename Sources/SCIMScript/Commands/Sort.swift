import SCIMCore

/// `sort ATTR [desc]...`: sorts records.
struct SortCommand: Command {
    let name = "sort"
    let signature = CommandSignature(output: .sameRecords, repeatsPositionals: true).required(.attribute)
        .optional(.direction)
    let summary = "sort records by attributes"
    let category = CommandCategory.local
    let help = """
        Sorts records by one or more attributes (dotted paths work), ascending unless followed by desc. \
        Strings compare case-insensitively, numbers numerically; records without the attribute come last. \
        Sorting needs every record, so it holds them all in memory.
        """
    var examples: [CommandExample] {
        [CommandExample("find | sort displayName desc", "sorted by display name, Z first")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        var keys: [(path: String, descending: Bool)] = []
        for arg in inv.arguments {
            guard case .positional = arg.kind else { throw inv.error("sort takes attribute names", at: arg.range) }
            let word = arg.value.displayString
            if !arg.quoted, ["asc", "desc"].contains(word.lowercased()) {
                guard !keys.isEmpty else { throw inv.error("'\(word)' must follow an attribute name", at: arg.range) }
                keys[keys.count - 1].descending = word.lowercased() == "desc"
            } else {
                keys.append((word, false))
            }
        }
        guard !keys.isEmpty else { throw inv.error("sort needs an attribute: sort userName [desc]") }
        guard let input else { throw inv.error("sort works on input records: find | sort userName") }
        return SortSource(input, keys: keys)
    }
}

final class SortSource: RecordSource {
    let upstream: any RecordSource
    let keys: [(path: String, descending: Bool)]
    var sorted: [Record]?
    var position = 0

    init(_ upstream: any RecordSource, keys: [(path: String, descending: Bool)]) {
        self.upstream = upstream
        self.keys = keys
    }

    func next() async throws -> Record? {
        if sorted == nil {
            var all: [Record] = []
            while let r = try await upstream.next() { all.append(r) }
            let keys = self.keys
            sorted = all.enumerated().sorted { a, b in
                for key in keys {
                    let x = a.element.value(atPath: key.path)
                    let y = b.element.value(atPath: key.path)
                    // Missing values come last in either direction (desc reverses only the values present).
                    switch (x, y) {
                    case (nil, nil): continue
                    case (nil, _): return false
                    case (_, nil): return true
                    default: break
                    }
                    let c = SortSource.compare(x, y)
                    if c != 0 { return key.descending ? c > 0 : c < 0 }
                }
                return a.offset < b.offset
            }.map(\.element)
        }
        guard let s = sorted, position < s.count else { return nil }
        defer { position += 1 }
        return s[position]
    }

    /// -1, 0, 1; missing values last.
    static func compare(_ a: JSONValue?, _ b: JSONValue?) -> Int {
        switch (a, b) {
        case (nil, nil): return 0
        case (nil, _): return 1
        case (_, nil): return -1
        case (.number(let x)?, .number(let y)?): return x < y ? -1 : x > y ? 1 : 0
        case (.bool(let x)?, .bool(let y)?): return x == y ? 0 : (!x ? -1 : 1)
        case (let x?, let y?):
            let s = x.displayString.lowercased()
            let t = y.displayString.lowercased()
            return s < t ? -1 : s > t ? 1 : 0
        }
    }
}
