import SCIMClient
import SCIMCore

/// `delete [ID...]` / `deactivate`: deactivates users.
struct DeleteCommand: Command {
    let name = "delete"
    let aliases = ["deactivate"]
    let signature = CommandSignature(input: .recordsOrArguments, access: .writes)
        .positional(.id, presence: .withoutInput, repeated: true)
    let summary = "delete (ODM: deactivate) each input user (or the ids given)"
    let category = CommandCategory.server

    /// Deactivation: the user leaves ODM's listing.
    func attributesWritten(by invocation: StageInvocation) -> Set<String>? { ["active"] }
    let help = """
        Deletes users: each input user, or the ids given. `deactivate` is the same command. Under the ODM \
        dialect it says "deactivated" and passes each user on with active=false; under `set dialect = rfc` the \
        server removes the user (RFC 7644 §3.6), so it says "deleted" and passes each user on without active.

        Request: DELETE {base_path}/Users/{id} (204 No Content), up to `concurrency` at once.
        ODM keeps the account but deactivates it: it no longer appears in find or get; \
        `patch ID active=true` brings it back. Elsewhere `undo` creates the user again from the journal, \
        with a new id.
        """
    var examples: [CommandExample] {
        [CommandExample(#"find userName eq "bjensen" | delete"#, "deactivate a user")]
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
        for arg in inv.arguments {
            if case .positional = arg.kind { continue }
            throw inv.error("delete takes user ids only", at: arg.range)
        }
        let upstream = try inv.idsOrInput(
            input, command: "delete", usage: "input users (find ... | delete) or ids (delete ID...)")
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
            imageScope: deletes ? .whole : .editable(plus: []), mergesBeforeImage: true)
        return WriteStage(upstream: upstream, context: inv.context, spec: spec, range: inv.stage.range)
    }
}
