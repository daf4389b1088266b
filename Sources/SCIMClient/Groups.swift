import SCIMCore

/// The SCIM Groups API (`/Groups`, RFC 7644; ODM's `/api/v1/scim/Groups`): the same requests, retries, errors and
/// exchange observer as the Users operations.
///
/// On ODM a caller sees the groups it is a member of (all of them with the "Manage groups" permission), creating a
/// group makes the caller its "Group admin", and changing or deleting a group needs that role or the permission.
extension SCIMClient {
    /// The value of `excludedAttributes` that leaves `members` out of groups (the only one ODM supports).
    static let excludeMembersQuery = [("excludedAttributes", "members")]

    /// Creates a group (`POST /Groups`). ODM requires `displayName`, refuses members in the request (400) and
    /// makes the caller the group's admin; names need not be unique.
    public func createGroup(_ group: SCIMGroup) async throws(SCIMError) -> SCIMGroup {
        var attrs = group.attributes
        if attrs["schemas"] == nil { attrs["schemas"] = .array([.string(SCIMSchema.group)]) }
        let r = request("POST", path: "/Groups", body: .object(attrs))
        let response = try await perform(r, idempotent: false)
        return try decodeResource(response, r)
    }

    /// Fetches one page of groups (`GET /Groups?filter=&startIndex=&count=`). `startIndex` is 1-based.
    ///
    /// ODM's filter supports only `displayName eq "…"` (others are 400 `invalidFilter`); `excludeMembers` asks for
    /// the groups without their `members` (`excludedAttributes=members`).
    public func findGroups(
        filter: String? = nil, startIndex: Int = 1, count: Int? = nil, excludeMembers: Bool = false
    ) async throws(SCIMError) -> GroupListResponse {
        try await findPage(
            path: "/Groups", filter: filter, startIndex: startIndex, count: count,
            extraQuery: excludeMembers ? Self.excludeMembersQuery : [])
    }

    /// Streams every group matching `filter`, fetching pages of `pageSize` on demand, with the same page checks as
    /// ``findAll(filter:pageSize:)``.
    public func findAllGroups(filter: String? = nil, pageSize: Int = 100, excludeMembers: Bool = false)
        -> GroupStream
    {
        GroupStream(client: self, path: "/Groups", pageSize: max(1, pageSize)) {
            start, count async throws(SCIMError) in
            try await self.findGroups(filter: filter, startIndex: start, count: count, excludeMembers: excludeMembers)
        }
    }

    /// Fetches one group by id (`GET /Groups/{id}`). ODM answers 404 for a group the caller cannot see.
    public func getGroup(id: String, excludeMembers: Bool = false) async throws(SCIMError) -> SCIMGroup {
        let r = try groupRequest("GET", id: id, query: excludeMembers ? Self.excludeMembersQuery : [])
        let response = try await perform(r, idempotent: true)
        return try decodeResource(response, r)
    }

    /// Applies a PATCH (`PATCH /Groups/{id}`) and returns the group after it.
    ///
    /// ODM answers `204 No Content`: the group is then read with a GET; if that fails (the caller removed itself
    /// from the group and can no longer see it), the result holds the id alone. Members are added with
    /// `add` of `members` (`[{"value": USER_ID}]`) and removed with `remove` of `members[value eq "USER_ID"]`.
    public func patchGroup(id: String, operations: [PatchOperation]) async throws(SCIMError) -> SCIMGroup {
        let r = try groupRequest("PATCH", id: id, body: PatchOperation.body(operations))
        return try await patch(r, id: id, operations: operations) { () async throws(SCIMError) in
            try await self.getGroup(id: id)
        }
    }

    /// Applies a PATCH (`PATCH /Groups/{id}`) without reading the group back: for membership changes, where a
    /// read-back after ODM's 204 would fetch every member of a big group once per change. The operations given
    /// (add or remove members) are safe to repeat, so the request is retried like a GET.
    public func updateGroup(id: String, operations: [PatchOperation]) async throws(SCIMError) {
        let r = try groupRequest("PATCH", id: id, body: PatchOperation.body(operations))
        _ = try await perform(r, idempotent: true)
    }

    /// Deletes a group (`DELETE /Groups/{id}`); its members stay as they are.
    public func deleteGroup(id: String) async throws(SCIMError) {
        let r = try groupRequest("DELETE", id: id)
        _ = try await perform(r, idempotent: true)
    }

    /// The request for an operation on one group, with the id escaped as a path segment.
    public func groupRequest(
        _ method: String, id: String, query: [(String, String)] = [], body: JSONValue? = nil
    ) throws(SCIMError) -> HTTPRequestData {
        try resourceRequest(method, collection: "/Groups", id: id, query: query, body: body)
    }
}
