import SCIMClient
import SCIMCore

/// `members GROUP...` / `… | members`: the users of groups, as user records.
struct MembersCommand: BuiltinCommand {
    let name = "members"
    let signature = CommandSignature(input: .recordsOrArguments, access: .reads)
        .positional(.groupName, presence: .withoutInput, repeated: true)
    let summary = "the members of groups (by name or id, or the input groups), as user records"
    let help = """
        Passes on the members of each group named (its displayName or id), or of each input group \
        (`groups | members`), as user records, so every user command works on them: \
        `members Engineering | patch active=false`. A user in several of the groups comes once. A member the \
        server will not show (ODM hides deactivated users from GET) comes as its id and displayName, with a \
        warning, so it can still be removed from the group.

        Request: GET {base_path}/Groups?filter=displayName eq "GROUP" (or GET {base_path}/Groups/{id}), then \
        GET {base_path}/Users/{id} for each member, up to `concurrency` at once.
        """
    var examples: [CommandExample] {
        [
            CommandExample("members Engineering", "the users in Engineering"),
            CommandExample(#"groups displayName eq "Curators" | members | count"#, "how many curators"),
        ]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let client = try inv.context.client()
        let directory = GroupDirectory(client: client)
        let names = inv.positionals.map { $0.value.displayString }
        let context = inv.context
        let groups: any RecordSource = input ?? ArraySource(names.map { JSONObject([("displayName", .string($0))]) })
        let refs = MemberReferences(groups: groups, directory: directory, named: input == nil, context: context)
        let hidden = Locked(0)
        let stage = inv.readStage(refs, op: "get", verb: "fetched") { ref in
            guard let id = ref["id"]?.stringValue else { return nil }
            do {
                return try await client.getUser(id: id).attributes
            } catch let e as SCIMError where e.status == 404 {
                hidden.withLock { $0 += 1 }
                return ref
            }
        }
        return WarnAtEnd(stage) {
            let n = hidden.current
            guard n > 0 else { return }
            context.warning(
                "\(n) member\(n == 1 ? "" : "s") could not be read (ODM hides deactivated users from GET); "
                    + "passed on with id and displayName only")
        }
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        inv.positionals.map { p in
            let filter = GroupRecords.nameFilter(p.value.displayString)
            return PlannedRequest(
                "find group \(p.value.displayString)",
                client.request("GET", path: "/Groups", query: [("filter", filter)]))
        } + [PlannedRequest("for each member", try client.userRequest("GET", id: "{id}"))]
    }
}

/// The member references of groups, each user once: `{id, displayName}` from the group's `members`.
final class MemberReferences: RecordSource {
    let groups: any RecordSource
    let directory: GroupDirectory
    /// Whether the input records are names to look up (else they are groups as the server sent them).
    let named: Bool
    let context: PipelineContext
    var queue: [Record] = []
    var seen = Set<String>()

    init(groups: any RecordSource, directory: GroupDirectory, named: Bool, context: PipelineContext) {
        self.groups = groups
        self.directory = directory
        self.named = named
        self.context = context
    }

    func next() async throws -> Record? {
        while queue.isEmpty {
            try Task.checkCancellation()
            guard let record = try await groups.next() else { return nil }
            var group = SCIMGroup(attributes: record)
            if named || group.members == nil {
                let key = named ? record["displayName"]?.stringValue : group.id
                guard let key else { throw ScriptError("an input record is not a group (it has no id)") }
                group = try await directory.group(key)
            }
            if let name = group.displayName { context.seen?.noteGroupName(name) }
            for m in group.members ?? [] where seen.insert(m.value).inserted {
                var r = JSONObject([("id", .string(m.value))])
                if let d = m.display { r["displayName"] = .string(d) }
                queue.append(r)
            }
        }
        return queue.removeFirst()
    }
}

/// Passes records through and runs `atEnd` once when they are all through.
final class WarnAtEnd: RecordSource {
    let upstream: any RecordSource
    var atEnd: (() -> Void)?

    init(_ upstream: any RecordSource, atEnd: @escaping () -> Void) {
        self.upstream = upstream
        self.atEnd = atEnd
    }

    func next() async throws -> Record? {
        if let r = try await upstream.next() { return r }
        atEnd?()
        atEnd = nil
        return nil
    }
}
