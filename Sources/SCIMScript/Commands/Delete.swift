import SCIMClient
import SCIMCore

/// `delete [ID...]` / `deactivate`: deactivates users.
struct DeleteCommand: BuiltinCommand {
    let name = "delete"
    let aliases = ["deactivate"]
    let signature = CommandSignature(input: .recordsOrArguments, access: .writes)
        .positional(.id, presence: .withoutInput, repeated: true)
        .flag("force")
    let summary = "delete (ODM: deactivate) each input user (or the ids given)"

    /// Deactivation: the user leaves ODM's listing.
    func attributesWritten(by invocation: StageInvocation) -> Set<String>? { ["active"] }
    let help = """
        Deletes users: each input user, or the ids given. `deactivate` is the same command. Under the ODM \
        dialect it says "deactivated" and passes each user on with active=false; under `set dialect = rfc` the \
        server removes the user (RFC 7644 §3.6), so it says "deleted" and passes each user on without active.

        Where the server removes users (dialect rfc) a delete cannot be taken back with the same id, so the \
        prompt asks before deleting even one user, and a script must say `delete --force` (or `set \
        confirm_delete = off`); under ODM, deactivation is undone by `undo`, so neither is needed.

        Request: DELETE {base_path}/Users/{id} (204 No Content), up to `concurrency` at once.
        ODM keeps the account but deactivates it: it no longer appears in find or get; \
        `patch ID active=true` brings it back. Elsewhere `undo` creates the user again from the journal, \
        with a new id.
        """
    var examples: [CommandExample] {
        [
            CommandExample(#"find userName eq "bjensen" | delete"#, "deactivate a user"),
            CommandExample(#"find userName eq "bjensen" | delete --force"#, "delete without asking (any dialect)"),
        ]
    }

    /// What delete passes on: the user with active=false (ODM keeps it, inactive), or, where the server removes
    /// it, the user without `active` and `meta` (it has neither any more).
    static func after(_ record: Record, deletes: Bool) -> Record {
        var out = record
        if deletes {
            out["active"] = nil
            out["meta"] = nil
        } else {
            out["active"] = .bool(false)
        }
        return out
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        try inv.userRequests { try client.userRequest("DELETE", id: $0) }
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let force = inv.flag("force") != nil
        // An RFC 7644 server removes the user (§3.6): a script says so explicitly, the prompt always asks.
        let removes = inv.context.dialect == .rfc
        let confirmsOff = inv.context.session.string("confirm_delete")?.lowercased() == "off"
        if removes, !force, !confirmsOff, !inv.context.interactive, !inv.context.dryRun {
            throw inv.error(
                "delete removes users for good on this server (dialect rfc); in a script write `delete --force`, "
                    + "or `set confirm_delete = off`")
        }
        let upstream = inv.idsOrInput(input)
        let client = try inv.context.client()
        // ODM deactivates; an RFC 7644 server removes the user (§3.6), so the journal keeps all of it for undo.
        let deletes = inv.context.dialect == .rfc
        let spec = WriteSpec(
            op: "delete", verb: deletes ? "deleted" : "deactivated", sendsWrites: true,
            predict: { DeleteCommand.after($0, deletes: deletes) },
            perform: { record in
                guard let id = record["id"]?.stringValue, !id.isEmpty else { throw ScriptError("the record has no id") }
                try await client.deleteUser(id: id)
                return DeleteCommand.after(record, deletes: deletes)
            }, before: WriteSpec.recordOrFetched(client, dialect: inv.context.dialect),
            imageScope: deletes ? .whole : .editable(plus: []), confirmsAlways: removes && !force && !confirmsOff,
            mergesBeforeImage: true)
        return WriteStage(upstream: upstream, context: inv.context, spec: spec, range: inv.stage.range)
    }
}
