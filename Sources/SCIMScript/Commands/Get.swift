import SCIMClient
import SCIMCore

/// `get ID...`: fetches users by id, or re-fetches each input user.
struct GetCommand: BuiltinCommand {
    let name = "get"
    let signature = CommandSignature(input: .recordsOrArguments, access: .reads)
        .positional(.id, presence: .withoutInput, repeated: true)
    let summary = "fetch users by id (or re-fetch each input user)"
    let help = """
        Fetches users by id. With input, fetches each input user again by its id (fresh data after changes). \
        A missing user is reported and the others still come through; the statement then fails.

        Request: GET {base_path}/Users/{id} for each id, up to `concurrency` at once.
        ODM answers 404 for deactivated users.
        """
    var examples: [CommandExample] {
        [CommandExample(#"find userName eq "bjensen" | get"#, "re-fetch a user")]
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        try inv.userRequests { try client.userRequest("GET", id: $0) }
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let client = try inv.context.client()
        return inv.readStage(inv.idsOrInput(input), op: "get", verb: "fetched") { record in
            guard let id = record["id"]?.stringValue, !id.isEmpty else { throw ScriptError("the record has no id") }
            return try await client.getUser(id: id).attributes
        }
    }
}
