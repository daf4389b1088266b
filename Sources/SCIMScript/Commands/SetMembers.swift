import SCIMClient
import SCIMCore

/// `… | set-members [GROUP]`: makes groups' members exactly the input users.
struct SetMembersCommand: BuiltinCommand {
    let name = "set-members"
    let signature = CommandSignature(input: .records, access: .writes).optional(.groupName)
    let summary = "make a group's members exactly the input users: add the missing, remove the others"
    let help = """
        Mirrors a list of memberships: reads all input users (find, or import of a CSV with an id or userName \
        column), and for the group GROUP (or, without it, for each group named in a `group` column) adds the \
        users who are not members and removes the members who are not in the input. Groups not named are left \
        alone. It passes on the users it changed, each with `member` true (added) or false (removed). Run it \
        with --dry-run (or at the prompt, where it asks first) to see the plan: \
        `would set-members user rkumar (…) in group Curators: member: false → true`.

        Request: GET {base_path}/Groups?filter=displayName eq "GROUP" for each group, then one PATCH \
        {base_path}/Groups/{id} per change (add of members, or remove of members[value eq "…"]), \
        up to `concurrency` at once; GET {base_path}/Users/{id} for each member to remove.
        """
    var examples: [CommandExample] {
        [
            CommandExample(
                "import examples/data/memberships.csv | set-members", "mirror a CSV of group,userName rows"),
            CommandExample(
                #"find userName eq "alice.martin" | set-members Curators"#, "leave alice.martin alone in Curators"),
        ]
    }

    func attributesWritten(by invocation: StageInvocation) -> Set<String>? { [] }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        guard let input else {
            throw inv.error("set-members needs the users the group should have: import members.csv | set-members")
        }
        let client = try inv.context.client()
        let directory = GroupDirectory(client: client)
        let plan = MirrorPlan(
            users: input, group: inv.positionals.first?.value.displayString, directory: directory, context: inv.context)
        let spec = MembershipWrite.spec(op: "set-members", verb: "changed", client: client, target: nil)
        return WriteStage(upstream: plan, context: inv.context, spec: spec, range: inv.stage.range)
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        let add = GroupRecords.membershipOperation(userId: "{user id}", add: true)
        let remove = GroupRecords.membershipOperation(userId: "{user id}", add: false)
        return GroupSource.findRequests(inv.positionals.first?.value.displayString ?? "{each group}", client: client)
            + [
                PlannedRequest(
                    "for each missing member",
                    try client.groupRequest("PATCH", id: "{id}", body: PatchOperation.body([add]))),
                PlannedRequest(
                    "for each extra member",
                    try client.groupRequest("PATCH", id: "{id}", body: PatchOperation.body([remove]))),
            ]
    }
}

/// The changes that make each named group's members the input users: adds first, then removals.
final class MirrorPlan: RecordSource {
    let users: any RecordSource
    let group: String?
    let directory: GroupDirectory
    let context: PipelineContext
    var changes: [Record]?

    init(users: any RecordSource, group: String?, directory: GroupDirectory, context: PipelineContext) {
        self.users = users
        self.group = group
        self.directory = directory
        self.context = context
    }

    func next() async throws -> Record? {
        if changes == nil { changes = try await plan() }
        guard changes?.isEmpty == false else { return nil }
        return changes?.removeFirst()
    }

    func plan() async throws -> [Record] {
        var order: [String] = []
        var wanted: [String: [Record]] = [:]
        let client = directory.client
        let resolved = ResolvedUsers(users, client: client, concurrency: context.concurrency)
        while let r = try await resolved.next() {
            try Task.checkCancellation()
            guard let name = group ?? r["group"]?.stringValue, !name.isEmpty else {
                throw ScriptError("a record has no group column; name the group: … | set-members GROUP")
            }
            if wanted[name] == nil { order.append(name) }
            wanted[name, default: []].append(r)
        }
        var out: [Record] = []
        for name in order {
            let g = try await directory.group(name)
            context.seen?.noteGroupName(name)
            let current = Set(GroupRecords.memberIds(g))
            var keep = Set<String>()
            for user in wanted[name] ?? [] {
                guard let id = user["id"]?.stringValue, keep.insert(id).inserted else { continue }
                if !current.contains(id) { out.append(MembershipChanges.change(user: user, userId: id, group: g)) }
            }
            for member in g.members ?? [] where !keep.contains(member.value) {
                var user = JSONObject([("id", .string(member.value))])
                if let d = member.display { user["displayName"] = .string(d) }
                if let fetched = try? await client.getUser(id: member.value) { user = fetched.attributes }
                out.append(MembershipChanges.change(user: user, userId: member.value, group: g))
            }
        }
        return out
    }
}
