import SCIMClient
import SCIMCore

/// `get ID...`: fetches users by id, or re-fetches each input user.
struct GetCommand: Command {
    let name = "get"
    let signature = CommandSignature(input: .recordsOrArguments, access: .reads)
        .positional(.id, presence: .withoutInput, repeated: true)
    let summary = "fetch users by id (or re-fetch each input user)"
    let category = CommandCategory.server
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
        let upstream = try inv.idsOrInput(
            input, command: "get", usage: "user ids (get ID...) or input records (find ... | get)")
        let client = try inv.context.client()
        let spec = WriteSpec(
            op: "get", verb: "fetched", sendsWrites: false, predict: { $0 },
            perform: { record in
                guard let id = record["id"]?.stringValue, !id.isEmpty else { throw ScriptError("the record has no id") }
                return try await client.getUser(id: id).attributes
            })
        let stage = WriteStage(upstream: upstream, context: inv.context, spec: spec, range: inv.stage.range)
        stage.quiet = true
        return stage
    }
}
