import SCIMCore

/// RFC 7644 §3.5.2 PATCH of a group, restricted to what ODM edits: `displayName`, `externalId` and `members`.
/// Unknown attributes are ignored; `id` and `meta` are read-only (400, whatever the value).
///
/// Members: `add` of `members` with `[{"value": USER_ID}, …]` (or one such object) adds users who are not members
/// yet, as plain members; `replace` sets the members to the list (those who stay keep their role); `remove` of
/// `members[value eq "USER_ID"]` removes the members the filter matches (none matched is no error, so a retried
/// remove succeeds), `remove` of `members` with a value removes those listed, without one every member. A member
/// value must be the id of a user of the sandbox (deactivated users included), else 400 `invalidValue`.
enum GroupPatch {
    /// Applies every operation of a PatchOp body to a copy of `group` and returns the copy.
    static func apply(body: JSONValue, to group: SandboxGroup, users: UserStore) throws(SCIMFailure) -> SandboxGroup {
        var result = group
        try Patch.forEachOperation(in: body, schema: SCIMSchema.group) { op, path, value throws(SCIMFailure) in
            try apply(op: op, path: path, value: value, to: &result, users: users)
        }
        return result
    }

    static func apply(
        op: Patch.Op, path: Patch.Path, value: JSONValue?, to group: inout SandboxGroup, users: UserStore
    ) throws(SCIMFailure) {
        let simple = path.filter == nil && path.subAttribute == nil
        func requireSimple(_ name: String) throws(SCIMFailure) {
            guard simple else { throw .invalidPath("Attribute '\(name)' has no sub-attributes ('\(path.text)')") }
        }
        switch path.attribute {
        case "id":
            throw .mutability("Attribute 'id' is read-only")
        case "meta":
            throw .mutability("Attribute 'meta' is read-only")
        case "displayname":
            try requireSimple("displayName")
            if op == .remove { throw .invalidValue("Attribute 'displayName' is required and cannot be removed") }
            group.displayName = try Validate.requiredString(value, name: "displayName")
        case "externalid":
            try requireSimple("externalId")
            if op == .remove {
                group.externalId = nil
            } else {
                group.externalId = try Validate.optionalString(value, name: "externalId")
            }
        case "members":
            try applyMembers(op: op, path: path, value: value, to: &group, users: users)
        default:
            return  // schemas and unknown attributes are ignored, as ODM does.
        }
    }

    static func applyMembers(
        op: Patch.Op, path: Patch.Path, value: JSONValue?, to group: inout SandboxGroup, users: UserStore
    ) throws(SCIMFailure) {
        guard path.subAttribute == nil else {
            throw .invalidPath("Members are added and removed whole: '\(path.text)' names a sub-attribute")
        }
        if let filter = path.filter {
            guard op == .remove else {
                throw .invalidPath("Only 'remove' takes a filter on members ('\(path.text)'); add members by value")
            }
            group.members.removeAll { member in filter.matches(memberJSON(member.userId)) }
            return
        }
        switch op {
        case .remove:
            guard let value, !value.isNull else {
                group.members.removeAll()
                return
            }
            let ids = try Set(memberIds(value, users: nil))
            group.members.removeAll { ids.contains($0.userId) }
        case .add:
            guard let value else { throw .invalidValue("'add' of 'members' needs a 'value'") }
            for id in try memberIds(value, users: users) where !group.isMember(id) {
                group.members.append(SandboxGroupMember(userId: id, isGroupAdmin: false))
            }
        case .replace:
            guard let value else { throw .invalidValue("'replace' of 'members' needs a 'value'") }
            let ids = try memberIds(value, users: users)
            var members: [SandboxGroupMember] = []
            for id in ids where !members.contains(where: { $0.userId == id }) {
                members.append(
                    group.members.first { $0.userId == id } ?? SandboxGroupMember(userId: id, isGroupAdmin: false))
            }
            group.members = members
        }
    }

    /// A member as the filter of a `members[...]` path sees it.
    static func memberJSON(_ userId: String) -> JSONValue {
        .object(JSONObject([("value", .string(userId))]))
    }

    /// The user ids of a members value: an array of `{"value": USER_ID}` or one such object. With `users`, each must
    /// be a user of the sandbox.
    static func memberIds(_ value: JSONValue, users: UserStore?) throws(SCIMFailure) -> [String] {
        let items = value.arrayValue ?? [value]
        var ids: [String] = []
        for item in items {
            guard let o = item.objectValue else {
                throw .invalidValue("A member must be an object {\"value\": USER_ID}, not \(Validate.kind(item))")
            }
            let id = try Validate.requiredString(o["value"], name: "members.value")
            if let users, users.user(id: id) == nil {
                throw .invalidValue("There are no users with id '\(id)': a member must be a user")
            }
            ids.append(id)
        }
        return ids
    }
}
