import SCIMClient
import SCIMCore

/// `… | add-to GROUP` / `add-to GROUP ID...`: adds users to a group.
struct AddToCommand: BuiltinCommand {
    let name = "add-to"
    let signature = CommandSignature(input: .recordsOrArguments, access: .writes)
        .positional(.groupName, presence: .requiredWithoutInput).positional(
            .id, presence: .withoutInput, repeated: true)
    let summary = "add each input user (or the ids given) to a group"
    let help = """
        Adds users to the group GROUP (its displayName or id): each input user (from find, members, or import \
        of a CSV with an id or a userName column), or the user ids given after GROUP. Without GROUP, each input \
        record names its group in a `group` column (`import memberships.csv | add-to`). Each user is added once \
        per group, up to `concurrency` at once; users already in the group are passed on without a request. It \
        passes the users on, so more can follow: `… | add-to Engineering | patch title=Engineer`.

        Request: PATCH {base_path}/Groups/{id} with \
        {"Operations":[{"op":"add","path":"members","value":[{"value":USER_ID}]}]} for each user (ODM answers 204).
        The group is found first: GET {base_path}/Groups?filter=displayName eq "GROUP" (or by id). \
        ODM: it needs the "Group admin" role in the group or the "Manage groups" permission (else 403).
        """
    var examples: [CommandExample] {
        [
            CommandExample(#"find userName eq "bjensen" | add-to Engineering"#, "add a user to a group"),
            CommandExample(
                "import examples/data/memberships.csv | add-to", "add the users of a CSV of group,userName rows"),
        ]
    }

    func attributesWritten(by invocation: StageInvocation) -> Set<String>? { [] }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        try MembershipCommand.stage(inv, input: input, add: true)
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        try MembershipCommand.requests(inv, client: client, add: true)
    }
}

/// What add-to and remove-from share: reading `GROUP [ID...]`, the groups of each record, the stage.
enum MembershipCommand {
    static func stage(_ inv: StageInvocation, input: (any RecordSource)?, add: Bool) throws -> any RecordSource {
        let all = inv.flag("all") != nil
        let args = inv.positionals.map { $0.value.displayString }
        let usage = add ? "find ... | add-to GROUP, or add-to GROUP ID..." : "find ... | remove-from GROUP (or --all)"
        if all, !args.isEmpty { throw inv.error("remove-from takes a group or --all, not both") }
        let group = all ? nil : args.first
        let users = input ?? ArraySource(args.dropFirst().map { JSONObject([("id", .string($0))]) })
        let client = try inv.context.client()
        let directory = GroupDirectory(client: client)
        let context = inv.context
        let groupsOf: (Record, String) async throws -> [SCIMGroup]
        if all {
            let every = EveryGroup(client: client)
            groupsOf = { _, id in try await every.groups(of: id) }
        } else if let group {
            groupsOf = { _, _ in [try await directory.group(group)] }
        } else {
            groupsOf = { record, _ in
                guard let name = record["group"]?.stringValue, !name.isEmpty else {
                    throw ScriptError("a record has no group column; name the group: \(usage)")
                }
                return [try await directory.group(name)]
            }
        }
        let unchanged = Locked<[Record]>([])
        let changes = MembershipChanges(
            upstream: users, directory: directory, target: add, unchanged: unchanged, concurrency: context.concurrency
        ) { record, id in
            let groups = try await groupsOf(record, id)
            for g in groups { if let n = g.displayName { context.seen?.noteGroupName(n) } }
            return groups
        }
        let spec = MembershipWrite.spec(
            op: inv.stage.name.lowercased(), verb: add ? "added" : "removed", client: client, target: add)
        // Passed on as the users without the group keys, each user once, with the users that needed no change.
        return UsersOnce(
            WriteStage(upstream: changes, context: inv.context, spec: spec, range: inv.stage.range),
            unchanged: unchanged)
    }

    static func requests(_ inv: StageInvocation, client: SCIMClient, add: Bool) throws -> [PlannedRequest] {
        let op = GroupRecords.membershipOperation(userId: "{user id}", add: add)
        let find =
            inv.flag("all") != nil
            ? [PlannedRequest("every group once (to see each user's)", client.request("GET", path: "/Groups"))]
            : GroupSource.findRequests(inv.positionals.first?.value.displayString, client: client)
        return find + [
            PlannedRequest(
                "for each user", try client.groupRequest("PATCH", id: "{id}", body: PatchOperation.body([op])))
        ]
    }
}

/// Every group the token sees, listed once, and which of them have a user as a member.
final class EveryGroup: Sendable {
    let client: SCIMClient
    let listed = Locked<[SCIMGroup]?>(nil)

    init(client: SCIMClient) { self.client = client }

    func groups(of userId: String) async throws -> [SCIMGroup] {
        let all: [SCIMGroup]
        if let l = listed.current {
            all = l
        } else {
            let out = try await scriptErrors {
                var out: [SCIMGroup] = []
                for try await g in client.findAllGroups() { out.append(g) }
                return out
            }
            listed.withLock { $0 = out }
            all = out
        }
        return all.filter { GroupRecords.memberIds($0).contains(userId) }
    }
}
