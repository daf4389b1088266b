import SCIMClient
import SCIMCore

/// `delete-group GROUP...`: deletes groups (their members stay).
struct DeleteGroupCommand: Command {
    let name = "delete-group"
    let signature = CommandSignature(input: .recordsOrArguments, access: .writes)
        .positional(.groupName, presence: .withoutInput, repeated: true)
    let summary = "delete groups by name or id, or the input groups (members stay as they are)"
    let category = CommandCategory.server
    let help = """
        Deletes each group named (its displayName or id), or each input group (`groups … | delete-group`). The \
        users stay as they are. The journal keeps the group's name, externalId and member ids, so `undo` \
        creates it again (with a new id) and adds its members back.

        Request: DELETE {base_path}/Groups/{id} (204).
        ODM: a group's "Group admin" (or "Manage groups") may delete it; a plain member gets 403.
        """
    var examples: [CommandExample] {
        [CommandExample(#"create-group Temp; delete-group Temp"#, "create and delete a group")]
    }

    func attributesWritten(by invocation: StageInvocation) -> Set<String>? { [] }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        try GroupRecords.checkFlags(inv, allowed: [])
        let names = inv.positionals.map { $0.value.displayString }
        if !names.isEmpty, input != nil { throw inv.error("delete-group takes group names or input groups, not both") }
        let client = try inv.context.client()
        let directory = GroupDirectory(client: client)
        let upstream: any RecordSource
        if let input {
            upstream = MapSource(input) { r in
                guard r["id"]?.stringValue != nil else { throw ScriptError("an input record is not a group (no id)") }
                return GroupRecords.image(SCIMGroup(attributes: r))
            }
        } else {
            guard !names.isEmpty else { throw inv.error("delete-group needs a group: delete-group GROUP (name or id)") }
            upstream = GroupSources(names.map { GroupSource(directory: directory, name: $0) })
        }
        let spec = WriteSpec(
            op: "delete-group", verb: "deleted", sendsWrites: true,
            predict: { r in
                var out = r
                out["exists"] = false
                return out
            },
            perform: { r in
                guard let id = r["id"]?.stringValue else { throw ScriptError("the group has no id") }
                try await client.deleteGroup(id: id)
                var out = r
                out["exists"] = false
                return out
            }, before: { r, _ in .user(r) }, imageScope: .adding(GroupRecords.imageKeys), noun: "group")
        return MapSource(WriteStage(upstream: upstream, context: inv.context, spec: spec, range: inv.stage.range)) {
            GroupRecords.shown($0)
        }
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        try requestPairs(inv, client: client, hasInput: !inv.isFirst).map { PlannedRequest($0.0, $0.1) }
    }

    func requestPairs(_ inv: StageInvocation, client: SCIMClient, hasInput: Bool) throws -> [(String, HTTPRequestData)]
    {
        let names = inv.positionals.map { $0.value.displayString }
        return names.flatMap { GroupSource.findRequests($0, client: client) } + [
            ("for each group", try client.groupRequest("DELETE", id: "{id}"))
        ]
    }
}

/// The records of several sources, one after the other.
final class GroupSources: RecordSource {
    var sources: [any RecordSource]

    init(_ sources: [any RecordSource]) { self.sources = sources }

    func next() async throws -> Record? {
        while let first = sources.first {
            if let r = try await first.next() { return r }
            sources.removeFirst()
        }
        return nil
    }
}
