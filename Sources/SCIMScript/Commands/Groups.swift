import SCIMClient
import SCIMCore

/// `groups [--limit N] [FILTER]`: lists groups; after users, the groups they belong to.
struct GroupsCommand: BuiltinCommand {
    let name = "groups"
    let signature = CommandSignature(input: .recordsOrArguments, access: .reads).flag("limit", .number)
        .flag("no-members")
        .optional(.filter)
    let summary = "list groups (all pages, streamed); after users, the groups they belong to"
    let help = """
        Lists the groups the token can see, as group records (id, displayName, externalId, members). FILTER is a \
        SCIM filter, checked before anything is sent and again on every group returned. After users \
        (`find userName eq "bjensen" | groups`) it lists the groups that have any of them as a member, each once. \
        --limit N stops after N groups. --no-members asks for the groups without their members \
        (excludedAttributes=members, the one value ODM takes), for a quick list of big groups. Pipe them into \
        `members` for their users.

        Request: GET {base_path}/Groups?filter=FILTER&startIndex=1&count={page_size}, then the next pages.
        ODM lists the groups the caller is in (all of them with the "Manage groups" permission) and filters only \
        on displayName eq "…": under the ODM dialect any other filter is refused before sending; filter locally \
        instead (groups | where displayName sw "Data").
        """
    var examples: [CommandExample] {
        [
            CommandExample("groups", "every group"),
            CommandExample(#"groups displayName eq "Engineering""#, "one group by name"),
            CommandExample(#"find userName eq "bjensen" | groups"#, "the groups bjensen belongs to"),
        ]
    }

    /// Whether ODM takes the filter: `displayName eq "…"` and nothing else.
    static func odmAccepts(_ filter: SCIMFilter) -> Bool {
        guard case .compare(let path, .eq, .literal(.string(_))) = filter else { return false }
        return path.schema == nil && path.subAttribute == nil && path.name.lowercased() == "displayname"
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let noMembers = inv.flag("no-members") != nil
        if noMembers, input != nil {
            throw inv.error("groups after users needs the members to match them; leave out --no-members")
        }
        let limit = try inv.wholeNumberFlag("limit")
        if let filter = inv.filter, inv.context.dialect == .odm, !GroupsCommand.odmAccepts(filter) {
            throw inv.error(
                "ODM filters groups only with displayName eq \"…\"; filter locally instead: groups | where \(filter)"
                    + " — or set dialect = rfc for other servers", at: inv.stage.filterRange)
        }
        let client = try inv.context.client()
        let serverFilter = input == nil ? inv.filter?.description : nil
        return GroupListing(
            client: client, filter: serverFilter, check: inv.filter, pageSize: inv.context.pageSize, limit: limit,
            users: input, excludeMembers: noMembers, context: inv.context)
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        let hasInput = !inv.isFirst
        var q: [(String, String)] = []
        if let f = inv.filter, !hasInput { q.append(("filter", f.description)) }
        q += [("startIndex", "1"), ("count", String(inv.context.pageSize))]
        if inv.flag("no-members") != nil { q.append(("excludedAttributes", "members")) }
        let label = hasInput ? "first page of every group (then those with an input user as member)" : "first page"
        return [
            PlannedRequest(
                label + ", then the next while more remain", client.request("GET", path: "/Groups", query: q))
        ]
    }
}

/// The groups of a listing, streamed page by page; with `users`, only those that have one of them as a member
/// (read once: the users are gathered first, then the groups listed).
final class GroupListing: RecordSource {
    let client: SCIMClient
    let filter: String?
    let check: SCIMFilter?
    let pageSize: Int
    let limit: Int?
    let users: (any RecordSource)?
    let excludeMembers: Bool
    let context: PipelineContext
    var iterator: GroupStream.AsyncIterator?
    var userIds: Set<String>?
    var emitted = 0

    init(
        client: SCIMClient, filter: String?, check: SCIMFilter?, pageSize: Int, limit: Int?,
        users: (any RecordSource)?, excludeMembers: Bool, context: PipelineContext
    ) {
        self.excludeMembers = excludeMembers
        self.client = client
        self.filter = filter
        self.check = check
        self.pageSize = pageSize
        self.limit = limit
        self.users = users
        self.context = context
    }

    func next() async throws -> Record? {
        if iterator == nil {
            if let users {
                var ids = Set<String>()
                let resolved = ResolvedUsers(users, client: client, concurrency: context.concurrency)
                while let user = try await resolved.next() {
                    if let id = user["id"]?.stringValue { ids.insert(id) }
                }
                userIds = ids
            }
            iterator = client.findAllGroups(filter: filter, pageSize: pageSize, excludeMembers: excludeMembers)
                .makeAsyncIterator()
        }
        while true {
            try Task.checkCancellation()
            if let limit, emitted >= limit { return nil }
            guard let group = try await scriptErrors({ try await iterator?.next() }) else { return nil }
            if let check, !check.matches(group.json) { continue }
            if let userIds, !GroupRecords.memberIds(group).contains(where: userIds.contains) { continue }
            emitted += 1
            if let name = group.displayName { context.seen?.noteGroupName(name) }
            return group.attributes
        }
    }
}
