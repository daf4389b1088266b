import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import SCIMCore

/// Who sends a request to the Groups API: the user its token speaks for, and whether that user has the
/// "Manage groups" permission (see ``SandboxConfiguration``).
struct SandboxCaller: Sendable, Equatable {
    var userId: String
    var canManageGroups: Bool

    /// Whether the caller sees `group`: a member of it, or "Manage groups".
    func sees(_ group: SandboxGroup) -> Bool { canManageGroups || group.isMember(userId) }

    /// Whether the caller may change or delete `group`: its "Group admin", or "Manage groups".
    func administers(_ group: SandboxGroup) -> Bool { canManageGroups || group.isGroupAdmin(userId) }
}

extension SCIMFailure {
    /// ODM's answer for a group that does not exist or that the caller cannot see.
    static let noSuchGroup = SCIMFailure(
        status: 404, scimType: nil, detail: "There are no groups with the specified id")
}

extension Sandbox {
    /// The caller behind an accepted token; `nil` for none or an expired one.
    func caller(for access: Access) -> SandboxCaller? {
        switch access {
        case .admin: return SandboxCaller(userId: configuration.adminUserId, canManageGroups: true)
        case .limited: return SandboxCaller(userId: configuration.limitedUserId, canManageGroups: false)
        case .user(let id): return SandboxCaller(userId: id, canManageGroups: false)
        case .none, .expired: return nil
        }
    }

    /// `POST /Groups`: a new group whose only member is the caller, as its "Group admin". Names need not be unique.
    func createGroup(body: JSONValue, caller: SandboxCaller, links: GroupLinks) throws(SCIMFailure) -> SandboxReply {
        guard let o = body.objectValue else { throw .invalidSyntax("The request body must be a JSON object") }
        try CreateInput.checkSchemas(o["schemas"], expected: SCIMSchema.group)
        let displayName = try Validate.requiredString(o["displayName"], name: "displayName")
        let externalId = try Validate.optionalString(o["externalId"], name: "externalId")
        switch o["members"] {
        case nil, .null?: break
        case .array(let items)? where items.isEmpty: break
        case .array?:
            throw .invalidValue(
                "Attribute 'members' must be empty when a group is created: the creator becomes its group admin; "
                    + "add members with PATCH")
        case let other?: throw .invalidValue("Attribute 'members' must be an array, not \(Validate.kind(other))")
        }
        let now = Self.nowMilliseconds()
        let resource: JSONObject = store.withLockedValue { store in
            let stamp = store.timestamp(now: now)
            let group = SandboxGroup(
                id: store.newId(), externalId: externalId, displayName: displayName,
                members: [SandboxGroupMember(userId: caller.userId, isGroupAdmin: true)], created: stamp,
                lastModified: stamp)
            store.groups.put(group)
            return links.resource(of: group, in: store, members: true)
        }
        var headers: [(HTTPField.Name, String)] = []
        if let location = resource["meta"]?["location"]?.stringValue { headers.append((.location, location)) }
        return SandboxReply.scim(201, JSONEncoderFast.encodeBytes(.object(resource)), headers: headers).changing()
    }

    /// `GET /Groups`: the groups the caller sees, in creation order; the filter may only be `displayName eq "…"`.
    func findGroups(query: String?, caller: SandboxCaller, links: GroupLinks) throws(SCIMFailure) -> SandboxReply {
        let (startIndex, count, filterText, excludeMembers) = try pageQuery(query)
        let displayName = try filterText.map { text throws(SCIMFailure) in try Self.displayNameEquality(text) }
        let (total, page): (Int, [JSONObject]) = store.withLockedValue { store in
            let matching = store.groups.order.compactMap { store.groups.group(id: $0) }.filter { group in
                caller.sees(group) && (displayName.map { group.displayName == $0 } ?? true)
            }
            let from = min(startIndex - 1, matching.count)
            let to = min(from + count, matching.count)
            return (
                matching.count,
                matching[from..<to].map { links.resource(of: $0, in: store, members: !excludeMembers) }
            )
        }
        var o = JSONObject()
        o["schemas"] = [.string(SCIMSchema.listResponse)]
        o["totalResults"] = .number(Double(total))
        o["startIndex"] = .number(Double(startIndex))
        o["itemsPerPage"] = .number(Double(page.count))
        o["Resources"] = .array(page.map(JSONValue.object))
        return .scim(200, JSONEncoderFast.encodeBytes(.object(o)))
    }

    /// `GET /Groups/{id}`: 404 unless the caller sees the group.
    func getGroup(id: String, caller: SandboxCaller, links: GroupLinks, excludeMembers: Bool) throws(SCIMFailure)
        -> SandboxReply
    {
        let resource: JSONObject? = store.withLockedValue { store in
            guard let group = store.groups.group(id: id), caller.sees(group) else { return nil }
            return links.resource(of: group, in: store, members: !excludeMembers)
        }
        guard let resource else { throw .noSuchGroup }
        return .scim(200, JSONEncoderFast.encodeBytes(.object(resource)))
    }

    /// `PATCH /Groups/{id}`: every operation or none; `204` with no body, as ODM answers.
    func patchGroup(id: String, body: JSONValue, caller: SandboxCaller) throws(SCIMFailure) -> SandboxReply {
        let now = Self.nowMilliseconds()
        let changed: Result<Bool, SCIMFailure> = store.withLockedValue { store in
            guard let original = store.groups.group(id: id), caller.sees(original) else {
                return .failure(.noSuchGroup)
            }
            guard caller.administers(original) else { return .failure(.notGroupAdmin("change")) }
            var group: SandboxGroup
            do throws(SCIMFailure) {
                group = try GroupPatch.apply(body: body, to: original, users: store)
            } catch {
                return .failure(error)
            }
            if group.sameContent(as: original) { return .success(false) }
            group.lastModified = store.timestamp(now: now)
            store.groups.put(group)
            return .success(true)
        }
        return SandboxReply.noContent.changing(try changed.get())
    }

    /// `DELETE /Groups/{id}`: removes the group; its members stay as they are.
    func deleteGroup(id: String, caller: SandboxCaller) throws(SCIMFailure) -> SandboxReply {
        let outcome: Result<Void, SCIMFailure> = store.withLockedValue { store in
            guard let group = store.groups.group(id: id), caller.sees(group) else { return .failure(.noSuchGroup) }
            guard caller.administers(group) else { return .failure(.notGroupAdmin("delete")) }
            _ = store.groups.remove(id: id)
            return .success(())
        }
        try outcome.get()
        return SandboxReply.noContent.changing()
    }

    /// Whether the query asks for `excludedAttributes=members`.
    static func excludesMembers(_ query: String?) throws(SCIMFailure) -> Bool {
        var exclude = false
        for (name, value) in try QueryString.parse(query ?? "") where name.lowercased() == "excludedattributes" {
            exclude = namesMembers(value)
        }
        return exclude
    }

    /// Whether an `excludedAttributes` value is `members` (ODM supports no other value and ignores them).
    static func namesMembers(_ value: String) -> Bool {
        let v = value.trimmingWhitespace().lowercased()
        return v == "members" || v == SCIMSchema.group.lowercased() + ":members"
    }

    /// The display name of a filter that is exactly `displayName eq "…"`, the only filter ODM supports on groups.
    static func displayNameEquality(_ text: String) throws(SCIMFailure) -> String {
        guard case .compare(let path, .eq, .literal(.string(let value))) = try parseFilter(text),
            path.subAttribute == nil,
            path.name.lowercased() == "displayname",
            path.schema == nil || path.schema?.lowercased() == SCIMSchema.group.lowercased()
        else {
            throw .invalidFilter(
                "Unsupported filter: groups can be filtered by 'displayName eq \"…\"' only, not '\(text)'")
        }
        return value
    }
}

/// The URL prefixes of a request's answers: the Users endpoint (members' `$ref`) and the Groups endpoint
/// (`meta.location`), each with a trailing slash; absolute when the request named its host.
struct GroupLinks: Sendable {
    var users: String
    var groups: String

    /// The group's resource with these links, with or without its members.
    func resource(of group: SandboxGroup, in store: UserStore, members: Bool) -> JSONObject {
        group.resource(users: store, refBase: users, location: groups + group.id, includeMembers: members)
    }
}

extension SCIMFailure {
    /// A caller who sees the group but is not its "Group admin" (nor has "Manage groups").
    static func notGroupAdmin(_ action: String) -> SCIMFailure {
        SCIMFailure(
            status: 403, scimType: nil,
            detail: "Only a group admin of this group or a user with the \"Manage groups\" permission may \(action) it")
    }
}
