import SCIMClient
import SCIMCore

/// `find [--limit N] [FILTER]`: lists users, all pages, streaming.
struct FindCommand: BuiltinCommand {
    let name = "find"
    let signature = CommandSignature(input: .none, access: .reads).flag("limit", .number).optional(.filter)
    let summary = "list users matching a SCIM filter (all pages, streamed)"
    let help = """
        Lists users. FILTER is a SCIM filter (RFC 7644 §3.4.2.2), checked before anything is sent; $var inside \
        it is inserted as a quoted string. Pages of page_size users are fetched as later stages ask for more \
        (the next one while the last users of a page are passed on), so `find | first 3` sends one small \
        request. --limit N stops after N users.

        Request: GET {base_path}/Users?filter=FILTER&startIndex=1&count={page_size}, then startIndex=101, ...
        Every returned user is checked against the filter again locally; users the server should not have \
        returned are dropped with a warning. When a later stage writes something that can take users out of the \
        listing (delete; patch of active, of an attribute the filter tests, or of a schema-qualified path; any \
        write when the filter tests meta), paging adapts so that users leaving do not make it skip others: \
        each page starts early by the writes that may have moved users, and asks for those positions on top \
        of a page (count up to 2 × page_size).
        ODM lists active users only and supports only eq and and (plus emails[type eq "work" and value eq "…"]).
        """
    var examples: [CommandExample] {
        [
            CommandExample(#"find userName eq "bjensen""#, "find one user by login"),
            CommandExample(#"find emails[type eq "work" and value eq "bjensen@example.com"]"#, "find by email"),
            CommandExample("find --limit 3", "the first three users"),
        ]
    }

    /// What in a filter ODM would reject, or `nil` when ODM takes it.
    static func odmProblem(_ filter: SCIMFilter) -> String? {
        let f = filter.features
        let others = f.operators.subtracting([.eq]).map(\.rawValue).sorted()
        if !others.isEmpty { return "the operator\(others.count == 1 ? "" : "s") \(others.joined(separator: ", "))" }
        if f.usesPresent { return "pr" }
        if f.usesOr { return "or" }
        if f.usesNot { return "not" }
        if f.usesValuePath {
            let roots = Set(f.attributePaths.map { $0.name.lowercased() })
            if roots.contains(where: { $0 != "emails" && !FindCommand.plainAttribute(filter, $0) }) {
                return "value filters other than emails[...]"
            }
        }
        return nil
    }

    /// Whether later writes can take users out of this listing: they change `active` or an attribute the filter
    /// tests, the filter tests `meta` (which every write changes), or they cannot say what they change.
    /// Otherwise (`find | patch displayName=…`) plain paging reaches every user once: writes that move nobody
    /// leave positions as they were.
    static func writesCanMoveUsers(_ inv: StageInvocation) -> Bool {
        guard inv.mutatesDownstream else { return false }
        guard let written = inv.writtenDownstream else { return true }
        var tested: Set<String> = ["active"]
        for path in inv.filter?.features.attributePaths ?? [] {
            // meta (lastModified, version) changes with every write, whatever it writes.
            if path.schema != nil || path.name.lowercased() == "meta" { return true }
            tested.insert(path.name.lowercased())
        }
        return !written.isDisjoint(with: tested)
    }

    /// Whether `name` is only used as a plain attribute (not a value path) in the filter.
    static func plainAttribute(_ filter: SCIMFilter, _ name: String) -> Bool {
        switch filter {
        case .valuePath(let p, _): return p.name.lowercased() != name
        case .and(let a, let b), .or(let a, let b): return plainAttribute(a, name) && plainAttribute(b, name)
        case .not(let a): return plainAttribute(a, name)
        case .compare, .present: return true
        }
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        let page = inv.context.pageSize
        var query: [(String, String)] = []
        if let f = inv.filter { query.append(("filter", f.description)) }
        query += [("startIndex", "1"), ("count", String(page))]
        return [
            PlannedRequest(
                "first page (then startIndex=\(page + 1), ... while more remain)",
                client.request("GET", path: "/Users", query: query))
        ]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let limit = try inv.wholeNumberFlag("limit")
        if let filter = inv.filter, inv.context.dialect == .odm, let problem = FindCommand.odmProblem(filter) {
            throw inv.error(
                "ODM does not support \(problem) in filters; it supports only eq and and (and "
                    + "emails[type eq \"work\" and value eq \"…\"]). Filter locally instead: find | where \(filter)"
                    + " — or set dialect = rfc for other servers", at: inv.stage.filterRange)
        }
        let client = try inv.context.client()
        // A server that says it cannot filter gets no filter: every user is listed and the filter applied here.
        let filtersHere = inv.filter != nil && inv.context.serverLacks(.filter)
        if filtersHere {
            inv.context.message(
                "note: the server does not support filtering (its /ServiceProviderConfig says so); "
                    + "listing every user and filtering here")
        }
        let filterText = filtersHere ? nil : inv.filter.map(\.description)
        let context = inv.context
        let pageSize = limit.map { min($0 == 0 ? 1 : $0, inv.context.pageSize) } ?? inv.context.pageSize
        return FindSource(
            client: client, filter: filterText, pageSize: pageSize, limit: limit,
            mutations: FindCommand.writesCanMoveUsers(inv) ? inv.context.mutations : nil, check: inv.filter,
            context: context
        ) { dropped in
            guard !filtersHere else { return }
            context.warning(
                "the server returned \(dropped) user\(dropped == 1 ? "" : "s") that do not match the filter; "
                    + "dropped them (the server probably ignored part of the filter)")
        }
    }
}
