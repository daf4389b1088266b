import SCIMClient
import SCIMCore

/// `… | remove-from GROUP` / `… | remove-from --all`: removes users from a group, or from every group.
struct RemoveFromCommand: BuiltinCommand {
    let name = "remove-from"
    let signature = CommandSignature(input: .recordsOrArguments, access: .writes)
        .positional(.groupName, presence: .requiredWithoutInput).positional(
            .id, presence: .withoutInput, repeated: true
        )
        .flag("all")
    let summary = "remove each input user (or the ids given) from a group, or with --all from every group"
    let help = """
        Removes users from the group GROUP (its displayName or id), or with --all from every group they are in \
        (offboarding: `find userName eq "bjensen" | remove-from --all | patch active=false`). Users come from \
        input (find, members, import of a CSV with id or userName, and a `group` column when GROUP is not \
        given) or as ids after GROUP. Users not in the group are passed on without a request. The journal \
        keeps each membership, so `undo` puts the users back in their groups.

        Request: PATCH {base_path}/Groups/{id} with \
        {"Operations":[{"op":"remove","path":"members[value eq \\"USER_ID\\"]"}]} for each user and group.
        With --all, every group is listed once first (GET {base_path}/Groups, all pages). \
        ODM: it needs the "Group admin" role in the group or the "Manage groups" permission (else 403).
        """
    var examples: [CommandExample] {
        [
            CommandExample(#"find userName eq "tnguyen" | remove-from Engineering"#, "take a user out of a group"),
            CommandExample(#"find userName eq "bjensen" | remove-from --all"#, "take a user out of every group"),
        ]
    }

    func attributesWritten(by invocation: StageInvocation) -> Set<String>? { [] }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        try MembershipCommand.stage(inv, input: input, add: false)
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        try MembershipCommand.requests(inv, client: client, add: false)
    }
}
