import SCIMClient
import SCIMCore

/// `create-group NAME [externalId=X]`: creates a group.
struct CreateGroupCommand: BuiltinCommand {
    let name = "create-group"
    let signature = CommandSignature(input: .recordsOrArguments, access: .writes)
        .positional(.groupName, "NAME", presence: .withoutInput).optional(.assignment, "externalId=ID", repeated: true)
    let summary = "create a group (ODM: you become its Group admin); then add members with add-to"
    let help = """
        Creates a group named NAME, or one group per input record (a `displayName` column, and `externalId` if \
        given). It passes the new group on (id, displayName, externalId). Members are added afterwards: \
        `create-group "Data Science"; find title eq "Data Scientist" | add-to "Data Science"`.

        Request: POST {base_path}/Groups with {"schemas":[…Group],"displayName":NAME}.
        ODM: displayName is required, members must be empty (else 400; under the ODM dialect `members=` is \
        refused before sending), the caller becomes the group's "Group admin", and names need not be unique: \
        a second group of the same name is created, and the commands that take a name then ask for its id.
        """
    var examples: [CommandExample] {
        [CommandExample(#"create-group "Data Science" externalId=GRP-DS"#, "create a group")]
    }

    func attributesWritten(by invocation: StageInvocation) -> Set<String>? { [] }

    /// The group to create from a record and the command's arguments (without the keys of the journal's image,
    /// which the write stage merges into the record).
    static func group(_ record: Record, name: String?, overrides: JSONObject) -> SCIMGroup {
        var attrs = JSONObject([("schemas", .array([.string(SCIMSchema.group)]))])
        let skipped = ["id", "meta", "schemas", "group", "groupid", "members", "exists"]
        for (k, v) in record where !skipped.contains(k.lowercased()) { attrs[k] = v }
        for (k, v) in overrides { attrs[k] = v }
        if let name { attrs["displayName"] = .string(name) }
        return SCIMGroup(attributes: attrs)
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        var overrides = JSONObject()
        var written: String?
        for arg in inv.arguments {
            switch arg.kind {
            case .assignment(let key):
                if key.lowercased() == "members", inv.context.dialect == .odm {
                    throw inv.error(
                        "ODM refuses members when a group is created (400); create it, then add them: "
                            + "create-group NAME; find ... | add-to NAME", at: arg.range)
                }
                overrides[key] = arg.value
            case .positional:
                guard written == nil else {
                    throw inv.error("create-group takes one name (quote a name with spaces)", at: arg.range)
                }
                written = arg.value.displayString
            case .flag: break
            }
        }
        if written != nil, input != nil { throw inv.error("create-group takes a name or input records, not both") }
        guard written != nil || input != nil else {
            throw inv.error("create-group needs a name: create-group \"Data Science\"")
        }
        let upstream = input ?? ArraySource([JSONObject()])
        let name = written
        let client = try inv.context.client()
        let fixed = overrides
        let odm = inv.context.dialect == .odm
        let spec = WriteSpec(
            op: "create-group", verb: "created", sendsWrites: true,
            predict: { r in
                var image = GroupRecords.image(CreateGroupCommand.group(r, name: name, overrides: fixed))
                image["exists"] = true
                return image
            },
            perform: { r in
                let group = CreateGroupCommand.group(r, name: name, overrides: fixed)
                guard group.displayName?.isEmpty == false else {
                    throw ScriptError("no displayName (give a name, or a displayName column)")
                }
                if odm, group.members?.isEmpty == false {
                    throw ScriptError("ODM refuses members when a group is created; add them afterwards with add-to")
                }
                return GroupRecords.image(try await client.createGroup(group))
            },
            before: { r, _ in
                let group = CreateGroupCommand.group(r, name: name, overrides: fixed)
                var image = GroupRecords.image(group, exists: false)
                image["id"] = nil
                image["groupId"] = nil
                return .user(image)
            }, imageScope: .adding(GroupRecords.imageKeys), noun: "group")
        return MapSource(WriteStage(upstream: upstream, context: inv.context, spec: spec, range: inv.stage.range)) {
            if let n = $0["group"]?.stringValue { inv.context.seen?.noteGroupName(n) }
            return GroupRecords.shown($0)
        }
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        var overrides = JSONObject()
        for arg in inv.arguments {
            if case .assignment(let k) = arg.kind { overrides[k] = arg.value }
        }
        let name = inv.positionals.first?.value.displayString
        let group = CreateGroupCommand.group(
            JSONObject(), name: name ?? "<each record's displayName>", overrides: overrides)
        return [
            PlannedRequest(
                inv.isFirst ? "request" : "for each input record",
                client.request("POST", path: "/Groups", body: group.json))
        ]
    }
}
