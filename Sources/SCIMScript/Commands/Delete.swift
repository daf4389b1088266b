import SCIMClient
import SCIMCore

/// `delete [ID...]` / `deactivate`: deactivates users.
struct DeleteCommand: Command {
    let name = "delete"
    let aliases = ["deactivate"]
    let signature = "… | delete   or   delete ID..."
    let summary = "deactivate each input user (or the ids given)"
    let category = CommandCategory.server
    let isMutating = true

    /// Deactivation: the user leaves ODM's listing.
    func attributesWritten(by invocation: StageInvocation) -> Set<String>? { ["active"] }
    let help = """
        Deactivates users: each input user, or the ids given. `deactivate` is the same command. Passes each \
        user on with active=false.

        Request: DELETE {base_path}/Users/{id} (204 No Content), up to `concurrency` at once.
        ODM keeps the account but deactivates it: it no longer appears in find or get; \
        `patch ID active=true` brings it back.
        """
    var examples: [CommandExample] {
        [CommandExample(#"find userName eq "bjensen" | delete"#, "deactivate a user")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        for arg in inv.arguments {
            if case .positional = arg.kind { continue }
            throw inv.error("delete takes user ids only", at: arg.range)
        }
        let upstream = try inv.idsOrInput(
            input, command: "delete", usage: "input users (find ... | delete) or ids (delete ID...)")
        let client = try inv.context.client()
        let spec = WriteSpec(
            op: "delete", verb: "deactivated", sendsWrites: true,
            predict: { record in
                var out = record
                out["active"] = .bool(false)
                return out
            },
            perform: { record in
                guard let id = record["id"]?.stringValue, !id.isEmpty else { throw ScriptError("the record has no id") }
                try await client.deleteUser(id: id)
                var out = record
                out["active"] = .bool(false)
                return out
            }, before: WriteSpec.recordOrFetched(client, dialect: inv.context.dialect))
        return WriteStage(upstream: upstream, context: inv.context, spec: spec, range: inv.stage.range)
    }
}
