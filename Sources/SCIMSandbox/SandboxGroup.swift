import SCIMCore

/// One member of a stored group: a user's id and whether the user has the "Group admin" role in the group.
struct SandboxGroupMember: Sendable, Equatable {
    var userId: String
    var isGroupAdmin: Bool
}

/// A stored group: what ODM keeps of one (unknown attributes of a request are not stored).
struct SandboxGroup: Sendable {
    var id: String
    var externalId: String?
    var displayName: String
    /// In the order they joined.
    var members: [SandboxGroupMember]
    /// Milliseconds since 1970, UTC.
    var created: Int64
    /// Milliseconds since 1970, UTC.
    var lastModified: Int64

    func isMember(_ userId: String) -> Bool { members.contains { $0.userId == userId } }

    func isGroupAdmin(_ userId: String) -> Bool { members.contains { $0.userId == userId && $0.isGroupAdmin } }

    /// Whether the editable attributes are the same (timestamps are not compared).
    func sameContent(as other: SandboxGroup) -> Bool {
        externalId == other.externalId && displayName == other.displayName && members == other.members
    }

    /// The group as a SCIM resource, members in the order they joined: `{"value", "$ref", "display"}` each, the
    /// display name that of the user when the store has it. `refBase` is the Users endpoint with a trailing slash.
    func resource(users: UserStore, refBase: String, location: String?, includeMembers: Bool) -> JSONObject {
        var o = JSONObject()
        o["schemas"] = [.string(SCIMSchema.group)]
        o["id"] = .string(id)
        if let externalId { o["externalId"] = .string(externalId) }
        o["displayName"] = .string(displayName)
        if includeMembers {
            o["members"] = .array(
                members.map { member in
                    var m = JSONObject()
                    m["value"] = .string(member.userId)
                    m["$ref"] = .string(refBase + member.userId)
                    if let user = users.user(id: member.userId) { m["display"] = .string(user.displayName) }
                    return .object(m)
                })
        }
        var meta = JSONObject()
        meta["resourceType"] = "Group"
        meta["created"] = .string(ISO8601.format(milliseconds: created))
        meta["lastModified"] = .string(ISO8601.format(milliseconds: lastModified))
        if let location { meta["location"] = .string(location) }
        o["meta"] = .object(meta)
        return o
    }
}

/// The groups by id, in creation order. Deleting a group removes it (its members, users, stay).
struct GroupTable: Sendable {
    private(set) var byId: [String: SandboxGroup] = [:]
    /// Ids in creation order (the order of list responses).
    private(set) var order: [String] = []

    func group(id: String) -> SandboxGroup? { byId[id] }

    /// Inserts a new group or replaces the one with the same id.
    mutating func put(_ group: SandboxGroup) {
        if byId[group.id] == nil { order.append(group.id) }
        byId[group.id] = group
    }

    /// Removes a group; `false` when there is none with that id.
    mutating func remove(id: String) -> Bool {
        guard byId.removeValue(forKey: id) != nil else { return false }
        order.removeAll { $0 == id }
        return true
    }
}

/// The ids of the seed users (the seed set, the tokens and the seed groups use these).
enum SeedIds {
    static let bjensen = "2819c223-7f76-453a-919d-413861904646"
    static let aliceMartin = "5d8a1c52-3b0e-4c1a-9f6e-2a7b9d4e1f01"
    static let rkumar = "7e2f9a14-6c3d-4b8e-a1f0-3c5d7e9b2a02"
    static let mgarcia = "9b4c6d28-1e5f-4a7b-8c2d-4e6f8a0c3b03"
    static let tnguyen = "a3d5e7f9-2b4c-4d6e-9f1a-5b7c9d1e4c04"
    static let okoval = "c5e7f9a1-3c5d-4e7f-a0b2-6c8d0e2f5d05"
    static let svcPipeline = "f9a1b3c5-5e7f-4a9b-82d4-8e0f2a4b7f07"
}

extension UserStore {
    /// Adds the seed groups (the seed users must be there): "Engineering", "Data Stewards" and "Curators", with
    /// fixed ids and timestamps so that runs are repeatable. See ``SandboxConfiguration``.
    mutating func addSeedGroups() {
        func admin(_ id: String) -> SandboxGroupMember { SandboxGroupMember(userId: id, isGroupAdmin: true) }
        func member(_ id: String) -> SandboxGroupMember { SandboxGroupMember(userId: id, isGroupAdmin: false) }
        let seeds = [
            SandboxGroup(
                id: "4f1c2a3b-8d7e-4a6f-9b2c-1e0d3f5a7b11", externalId: "GRP-ENG", displayName: "Engineering",
                members: [admin(SeedIds.rkumar), member(SeedIds.tnguyen), member(SeedIds.svcPipeline)],
                created: 1_705_482_000_000, lastModified: 1_710_406_800_000),
            SandboxGroup(
                id: "6a3e4c5d-0f9a-4c8b-8d4e-3a2f5b7c9d22", externalId: nil, displayName: "Data Stewards",
                members: [
                    admin(SeedIds.mgarcia), member(SeedIds.rkumar), member(SeedIds.bjensen), member(SeedIds.okoval),
                ],
                created: 1_706_086_800_000, lastModified: 1_706_086_800_000),
            SandboxGroup(
                id: "8c5a6e7f-2b1c-4e0d-af6a-5c4b7d9e1f33", externalId: nil, displayName: "Curators",
                members: [admin(SeedIds.aliceMartin), member(SeedIds.mgarcia)],
                created: 1_707_296_400_000, lastModified: 1_707_296_400_000),
        ]
        for group in seeds { groups.put(group) }
    }
}
