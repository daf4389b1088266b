import SCIMClient
import SCIMCore

/// What the group commands share: finding a group by name or id, the records a membership change travels in,
/// the PATCH bodies, ODM's rules, and how `undo` reverts a group write.
///
/// A membership change is the user's record with three more keys, which the journal keeps (so `undo` can put
/// the membership back): `group` (the group's displayName), `groupId` and `member` (whether the user is in the
/// group). A write to a group itself (create, rename, delete) travels as a group image: `id`, `group`,
/// `externalId`, `members` (the member ids) and `exists`.
enum GroupRecords {
    /// The keys a membership change adds to a user record.
    static let membershipKeys = ["group", "groupId", "member"]
    /// The keys of a group image, as the journal keeps them.
    static let imageKeys = ["group", "groupId", "externalId", "members", "exists"]

    /// `displayName eq "NAME"`: the one filter ODM takes for groups.
    static func nameFilter(_ name: String) -> String {
        SCIMFilter.compare(AttributePath(name: "displayName"), .eq, .literal(.string(name))).description
    }

    /// The member ids of a group as the server sent it.
    static func memberIds(_ group: SCIMGroup) -> [String] { (group.members ?? []).map(\.value) }

    /// The image of a group for plans and the journal (`exists` false for a group that is not there).
    static func image(_ group: SCIMGroup, exists: Bool = true) -> Record {
        var o = JSONObject()
        o["id"] = group.id.map(JSONValue.string) ?? .null
        o["group"] = group.displayName.map(JSONValue.string) ?? .null
        o["groupId"] = o["id"]
        if let e = group.externalId { o["externalId"] = .string(e) }
        o["members"] = .array(memberIds(group).map(JSONValue.string))
        o["exists"] = .bool(exists)
        return o
    }

    /// What a group command passes on for a group image: the group's id, displayName, externalId and members.
    static func shown(_ image: Record) -> Record {
        var o = JSONObject()
        o["id"] = image["id"] ?? .null
        o["displayName"] = image["group"] ?? .null
        if let e = image["externalId"] { o["externalId"] = e }
        if image["exists"] == .bool(false) { o["deleted"] = .bool(true) }
        return o
    }

    /// A user record without the keys of a membership change (what add-to and remove-from pass on).
    static func user(_ change: Record) -> Record {
        var out = change
        for k in membershipKeys { out[k] = nil }
        return out
    }

    /// The PATCH that adds a user to a group (`add` of `members`) or removes it (`remove` of `members[value eq]`).
    static func membershipOperation(userId: String, add: Bool) -> PatchOperation {
        if add {
            return PatchOperation(
                op: .add, path: "members", value: .array([.object(JSONObject([("value", .string(userId))]))]))
        }
        let filter = SCIMFilter.compare(AttributePath(name: "value"), .eq, .literal(.string(userId)))
        return PatchOperation(op: .remove, path: "members[\(filter)]", value: nil)
    }

}

/// `body`'s result, a client's error turned into a ``ScriptError`` with its message.
func scriptErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw ScriptError(WriteStage.text(of: error))
    }
}

/// Finds groups by displayName or id, once per name in a stage, and keeps the found groups' members up to date
/// as the stage changes them.
final class GroupDirectory: Sendable {
    let client: SCIMClient
    let groups = Locked<[String: SCIMGroup]>([:])

    init(client: SCIMClient) { self.client = client }

    /// The one group named `name` (ODM: `displayName eq`, the only filter it takes), else the group with that id.
    /// Two groups may share a name on ODM: then it is an error that lists their ids.
    func group(_ name: String) async throws -> SCIMGroup {
        if let g = groups.withLock({ $0[name] }) { return g }
        let filter = GroupRecords.nameFilter(name)
        let found = try await scriptErrors { try await client.findGroups(filter: filter, count: 100).resources }
            .filter { $0.displayName == name }
        if found.count > 1 {
            let ids = found.compactMap(\.id).joined(separator: ", ")
            throw ScriptError(
                "\(found.count) groups are named \"\(name)\" (ids \(ids)); give the id of the one you mean "
                    + "(groups displayName eq \"\(name)\" lists them)")
        }
        var group = found.first
        if group == nil {
            do {
                group = try await client.getGroup(id: name)
            } catch let e where e.status == 404 || e.status == 400 {
                group = nil
            } catch {
                throw ScriptError(WriteStage.text(of: error))
            }
        }
        guard let group, group.id != nil else {
            throw ScriptError(
                "no group named \"\(name)\" that this token can see (`groups` lists them; create it with "
                    + "create-group \"\(name)\")")
        }
        groups.withLock { $0[name] = group }
        return group
    }
}

/// Turns input users into membership changes for one group or several: resolves each user (an `id`, else a
/// `userName` looked up with `find`), each group once, and passes each (group, user) pair that needs a change on
/// exactly once. A user that needs none (already as wanted, or in no group for `remove-from --all`) goes to
/// `unchanged`, so the stage still passes it on.
final class MembershipChanges: RecordSource {
    let upstream: any RecordSource
    let directory: GroupDirectory
    /// The membership wanted (true: in the group).
    let target: Bool
    /// The groups of a record: the command's argument, the record's `group` column, or every group it is in.
    let groupsOf: (Record, String) async throws -> [SCIMGroup]
    let unchanged: Locked<[Record]>
    var seen = Set<String>()
    var queue: [Record] = []

    init(
        upstream: any RecordSource, directory: GroupDirectory, target: Bool, unchanged: Locked<[Record]>,
        concurrency: Int, groupsOf: @escaping (Record, String) async throws -> [SCIMGroup]
    ) {
        self.upstream = ResolvedUsers(upstream, client: directory.client, concurrency: concurrency)
        self.directory = directory
        self.target = target
        self.unchanged = unchanged
        self.groupsOf = groupsOf
    }

    func next() async throws -> Record? {
        while queue.isEmpty {
            try Task.checkCancellation()
            guard let input = try await upstream.next() else { return nil }
            let user = input
            guard let id = user["id"]?.stringValue else { continue }
            for group in try await groupsOf(user, id) {
                guard let gid = group.id, seen.insert(gid + "\u{0}" + id).inserted else { continue }
                let change = MembershipChanges.change(user: user, userId: id, group: group)
                if change["member"]?.boolValue != target { queue.append(change) }
            }
            if queue.isEmpty { unchanged.withLock { $0.append(user) } }
        }
        return queue.removeFirst()
    }

    /// The user record with the group's name, id and whether the user is a member now.
    static func change(user: Record, userId: String, group: SCIMGroup) -> Record {
        var r = user
        r["group"] = group.displayName.map(JSONValue.string) ?? .null
        r["groupId"] = group.id.map(JSONValue.string) ?? .null
        r["member"] = .bool(GroupRecords.memberIds(group).contains(userId))
        return r
    }

    /// A record with an `id` as it is; one with only a `userName` (a CSV row) completed by `find userName eq`.
    static func resolveUser(_ record: Record, client: SCIMClient) async throws -> Record {
        if let id = record["id"]?.stringValue, !id.isEmpty { return record }
        guard let name = record["userName"]?.stringValue, !name.isEmpty else {
            throw ScriptError(
                "a record has neither id nor userName, so it names no user: \(JSONEncoderFast.encode(.object(record)))")
        }
        let filter = SCIMFilter.compare(AttributePath(name: "userName"), .eq, .literal(.string(name)))
        let found = try await scriptErrors { try await client.findUsers(filter: filter.description, count: 1) }
        guard let found = found.resources.first else {
            throw ScriptError("no user with userName \"\(name)\" (ODM lists active users only)")
        }
        var out = found.attributes
        for (k, v) in record where out[k] == nil { out[k] = v }
        return out
    }
}

/// The input users with their ids: a record with only a `userName` (a CSV row) is looked up with
/// ``MembershipChanges/resolveUser(_:client:)``, up to `concurrency` lookups ahead of the reader, in input order; the
/// first failure is thrown where its record would have come.
final class ResolvedUsers: RecordSource {
    let upstream: any RecordSource
    let client: SCIMClient
    let concurrency: Int
    var window: [Task<Record, any Error>] = []
    var upstreamDone = false

    init(_ upstream: any RecordSource, client: SCIMClient, concurrency: Int) {
        self.upstream = upstream
        self.client = client
        self.concurrency = max(1, concurrency)
    }

    deinit { for t in window { t.cancel() } }

    func next() async throws -> Record? {
        while window.count < concurrency, !upstreamDone {
            guard let record = try await upstream.next() else {
                upstreamDone = true
                break
            }
            let client = client
            window.append(Task { try await MembershipChanges.resolveUser(record, client: client) })
        }
        guard !window.isEmpty else { return nil }
        let first = window.removeFirst()
        return try await withTaskCancellationHandler {
            try await first.value
        } onCancel: {
            first.cancel()
        }
    }
}

/// The write spec of membership changes: a PATCH of the group that adds or removes the user; `target` is the
/// membership wanted (`nil`: the opposite of what it is, for set-members, whose changes are all needed ones).
enum MembershipWrite {
    static func spec(op: String, verb: String, client: SCIMClient, target: Bool?) -> WriteSpec {
        @Sendable func wanted(_ r: Record) -> Bool { target ?? !(r["member"]?.boolValue ?? false) }
        @Sendable func member(_ r: Record, _ member: Bool) -> Record {
            var out = r
            out["member"] = .bool(member)
            return out
        }
        return WriteSpec(
            op: op, verb: verb, sendsWrites: true, predict: { member($0, wanted($0)) },
            perform: { r in
                guard let gid = r["groupId"]?.stringValue, let uid = r["id"]?.stringValue else {
                    throw ScriptError("the record names no group or no user")
                }
                let add = wanted(r)
                // Already as wanted: nothing to send (the journal says so: before and after are the same).
                if r["member"]?.boolValue == add { return r }
                try await client.updateGroup(
                    id: gid, operations: [GroupRecords.membershipOperation(userId: uid, add: add)])
                return member(r, add)
            },
            before: { r, _ in .user(r) }, imageScope: .adding(GroupRecords.membershipKeys), noun: "membership")
    }
}

/// The users of membership changes, each once (a user leaving three groups is deactivated once after it), and
/// the users that needed no change.
final class UsersOnce: RecordSource {
    let upstream: any RecordSource
    let unchanged: Locked<[Record]>
    var seen = Set<String>()
    var upstreamDone = false

    init(_ upstream: any RecordSource, unchanged: Locked<[Record]>) {
        self.upstream = upstream
        self.unchanged = unchanged
    }

    func next() async throws -> Record? {
        while true {
            let waiting = unchanged.withLock { u -> Record? in u.isEmpty ? nil : u.removeFirst() }
            var r = waiting
            if r == nil, !upstreamDone { r = try await upstream.next() }
            if let r {
                let user = GroupRecords.user(r)
                if let id = user["id"]?.stringValue, !seen.insert(id).inserted { continue }
                return user
            }
            if upstreamDone { return nil }
            upstreamDone = true
        }
    }
}

/// How `undo` reverts a group write from the journal's images.
enum GroupUndo {
    /// Whether a revert record (from `undo`) is a group write: its before- or after-image holds the group keys.
    static func handles(_ r: Record) -> Bool {
        for image in [r["before"], r["left_in"]] {
            guard let o = image?.objectValue else { continue }
            if o["member"]?.boolValue != nil || o["exists"]?.boolValue != nil { return true }
        }
        return false
    }

    /// What `undo` counts in its summary: `membership`, `group` or `user` when every revert is of that kind,
    /// else `change` ("reverted 3 memberships", not "3 users", after `remove-from`).
    static func noun(_ reverts: [Record]) -> String {
        let kinds = Set(
            reverts.map { r -> String in
                let images = [r["before"], r["left_in"]].compactMap { $0?.objectValue }
                if images.contains(where: { $0["member"]?.boolValue != nil }) { return "membership" }
                return images.contains(where: { $0["exists"]?.boolValue != nil }) ? "group" : "user"
            })
        return kinds.count == 1 ? kinds.first! : kinds.isEmpty ? "user" : "change"
    }

    /// The key that tells a group write from a user write of the same id in one statement.
    static func key(_ entry: JSONObject) -> String {
        let id = entry["id"]?.stringValue ?? ""
        for image in [entry["before"], entry["after"]] {
            if let g = image?.objectValue?["groupId"]?.stringValue { return id + "\u{0}" + g }
        }
        return id
    }

    /// Runs `change` on the group `id`; when the server no longer has that id and exactly one group is named
    /// `name` (an earlier undo created the group again, with a new id), on that group, and says so.
    static func onGroup<T>(
        _ id: String, named name: String?, client: SCIMClient, context: PipelineContext,
        _ change: (String) async throws -> T
    ) async throws -> T {
        do {
            return try await change(id)
        } catch let e as SCIMError where e.status == 404 {
            guard let name else { throw e }
            let filter = GroupRecords.nameFilter(name)
            let found = try await client.findGroups(filter: filter).resources.filter {
                $0.displayName == name
            }
            guard found.count == 1, let newId = found.first?.id else { throw e }
            context.message("group \(name) is no longer \(id) but \(newId) (created again by an undo); using that")
            return try await change(newId)
        }
    }

    /// Puts a group or a membership back as the before-image says, and returns the image it leaves.
    static func revert(_ r: Record, client: SCIMClient, context: PipelineContext) async throws -> Record {
        let before = r["before"]?.objectValue ?? JSONObject()
        let left = r["left_in"]?.objectValue
        if let member = before["member"]?.boolValue {
            guard let gid = before["groupId"]?.stringValue, let uid = r["id"]?.stringValue else {
                throw ScriptError("the journal entry names no group or no user")
            }
            var out = left ?? before
            out["id"] = .string(uid)
            if left?["member"]?.boolValue != member {
                let op = GroupRecords.membershipOperation(userId: uid, add: member)
                try await onGroup(gid, named: before["group"]?.stringValue, client: client, context: context) {
                    try await client.updateGroup(id: $0, operations: [op])
                }
            }
            out["member"] = .bool(member)
            return out
        }
        let existed = before["exists"]?.boolValue ?? false
        let exists = left?["exists"]?.boolValue ?? true
        let id = left?["groupId"]?.stringValue ?? r["id"]?.stringValue ?? ""
        let name = before["group"]?.stringValue ?? left?["group"]?.stringValue ?? id
        switch (existed, exists) {
        case (false, _):
            try await onGroup(id, named: left?["group"]?.stringValue, client: client, context: context) {
                try await client.deleteGroup(id: $0)
            }
            context.message("deleted group \(name), which the statement created")
            var out = left ?? before
            out["exists"] = false
            return out
        case (true, false):
            let members = (before["members"]?.arrayValue ?? []).compactMap(\.stringValue)
            let created = try await client.createGroup(
                SCIMGroup(displayName: name, externalId: before["externalId"]?.stringValue))
            guard let newId = created.id else { throw ScriptError("the server gave the new group no id") }
            // ODM made the caller a member of the new group already (its "Group admin").
            let missing = members.filter { !GroupRecords.memberIds(created).contains($0) }
            if !missing.isEmpty {
                let ops = missing.map { GroupRecords.membershipOperation(userId: $0, add: true) }
                try await client.updateGroup(id: newId, operations: ops)
            }
            context.message(
                "created group \(name) again with a new id \(newId) (was \(id)), with its \(members.count) members")
            var image = GroupRecords.image(created)
            image["members"] = .array(members.map(JSONValue.string))
            return image
        case (true, true):
            var values = JSONObject()
            values["displayName"] = .string(name)
            var ops = [PatchOperation]()
            if let e = before["externalId"] {
                values["externalId"] = e
            } else if left?["externalId"] != nil {
                ops.append(PatchOperation(op: .remove, path: "externalId", value: nil))
            }
            ops.insert(PatchOperation(op: .replace, path: nil, value: .object(values)), at: 0)
            let group = try await onGroup(id, named: left?["group"]?.stringValue, client: client, context: context) {
                try await client.patchGroup(id: $0, operations: ops)
            }
            return GroupRecords.image(group)
        }
    }
}
