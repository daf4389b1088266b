import SCIMClient
import SCIMCore

/// `rename-group GROUP NEW`: changes a group's displayName.
struct RenameGroupCommand: BuiltinCommand {
    let name = "rename-group"
    let signature = CommandSignature(input: .none, access: .writes).required(.groupName)
        .required(.value, "NEW_NAME")
    let summary = "rename a group (its displayName)"
    let help = """
        Renames the group GROUP (its displayName, or its id) to NEW_NAME. Its id, externalId and members stay.

        Request: PATCH {base_path}/Groups/{id} with {"op":"replace","value":{"displayName":NEW_NAME}}.
        ODM answers 204 with no body; the group is then read back with a GET. It needs the "Group admin" role in \
        the group or the "Manage groups" permission (else 403).
        """
    var examples: [CommandExample] {
        [CommandExample(#"rename-group Curators "Data Curators""#, "rename a group")]
    }

    func attributesWritten(by invocation: StageInvocation) -> Set<String>? { [] }

    static func operation(_ newName: String) -> PatchOperation {
        PatchOperation(op: .replace, path: nil, value: .object(JSONObject([("displayName", .string(newName))])))
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let args = inv.positionals
        let (old, new) = (args[0].value.displayString, args[1].value.displayString)
        guard !new.isEmpty else { throw inv.error("the new name is empty", at: args[1].range) }
        let client = try inv.context.client()
        let directory = GroupDirectory(client: client)
        let spec = WriteSpec(
            op: "rename-group", verb: "renamed", sendsWrites: true,
            predict: { r in
                var out = r
                out["group"] = .string(new)
                return out
            },
            perform: { r in
                guard let id = r["id"]?.stringValue else { throw ScriptError("the group has no id") }
                return GroupRecords.image(
                    try await client.patchGroup(id: id, operations: [RenameGroupCommand.operation(new)]))
            }, before: { r, _ in .user(r) }, imageScope: .adding(GroupRecords.imageKeys), noun: "group")
        let found = GroupSource(directory: directory, names: [old])
        return MapSource(WriteStage(upstream: found, context: inv.context, spec: spec, range: inv.stage.range)) {
            inv.context.seen?.noteGroupName(new)
            return GroupRecords.shown($0)
        }
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        let args = inv.positionals.map { $0.value.displayString }
        let body = PatchOperation.body([RenameGroupCommand.operation(args.count > 1 ? args[1] : "NEW_NAME")])
        return GroupSource.findRequests(args.first, client: client) + [
            PlannedRequest("then", try client.groupRequest("PATCH", id: "{id}", body: body))
        ]
    }
}

/// Groups found by name or id, one after the other, as group images (for rename-group and delete-group).
final class GroupSource: RecordSource {
    let directory: GroupDirectory
    var names: [String]

    init(directory: GroupDirectory, names: [String]) {
        self.directory = directory
        self.names = names
    }

    func next() async throws -> Record? {
        guard !names.isEmpty else { return nil }
        return GroupRecords.image(try await directory.group(names.removeFirst()))
    }

    /// The request that finds a group by name, for explain.
    static func findRequests(_ name: String?, client: SCIMClient) -> [PlannedRequest] {
        let filter = GroupRecords.nameFilter(name ?? "GROUP")
        return [
            PlannedRequest(
                "find the group (else GET {base_path}/Groups/{id} when GROUP is an id)",
                client.request("GET", path: "/Groups", query: [("filter", filter)]))
        ]
    }
}
