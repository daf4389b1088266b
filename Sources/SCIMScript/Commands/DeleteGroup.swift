import SCIMClient
import SCIMCore

/// `delete-group GROUP...`: deletes groups (their members stay).
struct DeleteGroupCommand: BuiltinCommand {
    let name = "delete-group"
    let signature = CommandSignature(input: .recordsOrArguments, access: .writes)
        .positional(.groupName, presence: .withoutInput, repeated: true)
    let summary = "delete groups by name or id, or the input groups (members stay as they are)"
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
        let names = inv.positionals.map { $0.value.displayString }
        let client = try inv.context.client()
        let directory = GroupDirectory(client: client)
        let upstream: any RecordSource
        if let input {
            upstream = MapSource(input) { r in
                guard r["id"]?.stringValue != nil else { throw ScriptError("an input record is not a group (no id)") }
                return GroupRecords.image(SCIMGroup(attributes: r))
            }
        } else {
            upstream = GroupSource(directory: directory, names: names)
        }
        @Sendable func deleted(_ r: Record) -> Record {
            var out = r
            out["exists"] = false
            return out
        }
        let spec = WriteSpec(
            op: "delete-group", verb: "deleted", sendsWrites: true, predict: deleted,
            perform: { r in
                guard let id = r["id"]?.stringValue else { throw ScriptError("the group has no id") }
                try await client.deleteGroup(id: id)
                return deleted(r)
            }, before: { r, _ in .user(r) }, imageScope: .adding(GroupRecords.imageKeys), noun: "group")
        return MapSource(WriteStage(upstream: upstream, context: inv.context, spec: spec, range: inv.stage.range)) {
            GroupRecords.shown($0)
        }
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        let names = inv.positionals.map { $0.value.displayString }
        return names.flatMap { GroupSource.findRequests($0, client: client) } + [
            PlannedRequest("for each group", try client.groupRequest("DELETE", id: "{id}"))
        ]
    }
}
