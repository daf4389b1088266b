import SCIMCore

/// The version a write expects its resource to have (RFC 7644 §3.14): while one is set for a task (``current``),
/// the client sends `If-Match: VERSION` with every PATCH, PUT and DELETE of that one resource, so a resource that
/// someone else changed after it was read is not overwritten; the server then answers `412 Precondition Failed`.
/// Requests to other resources are not touched.
///
/// ```swift
/// let user = try await client.getUser(id: id)
/// let expected = user.attributes["meta"]?["version"]?.stringValue.map {
///     ExpectedVersion(collection: "/Users", id: id, version: $0)
/// }
/// try await ExpectedVersion.$current.withValue(expected) {
///     _ = try await client.patchUser(id: id, operations: ops)  // 412 if the user changed since the GET
/// }
/// ```
public struct ExpectedVersion: Sendable, Hashable {
    /// The collection (`/Users`, `/Groups`).
    public var collection: String
    /// The resource's id.
    public var id: String
    /// The version as the server gave it (`meta.version` or the ETag header), e.g. `W/"3"`.
    public var version: String

    /// An expected version of one resource.
    public init(collection: String, id: String, version: String) {
        self.collection = collection
        self.id = id
        self.version = version
    }

    /// The expected version for writes sent from the current task.
    @TaskLocal public static var current: ExpectedVersion?

    /// The methods that carry `If-Match`.
    static let conditionalMethods: Set<String> = ["PATCH", "PUT", "DELETE"]

    /// The `If-Match` header for a request to `id` in `collection`, if the current expectation is about it.
    static func header(method: String, collection: String, id: String) -> (name: String, value: String)? {
        guard let current, conditionalMethods.contains(method), current.collection == collection, current.id == id
        else { return nil }
        return ("If-Match", current.version)
    }

    /// The user with the response's `ETag` header as its `meta.version` when the body gives none (RFC 7644 §3.14
    /// allows either), so a write after this read can send it back.
    static func addingETag(of response: HTTPResponseData, to user: SCIMUser) -> SCIMUser {
        guard let etag = response.header("ETag"), !etag.isEmpty, user.attributes["meta"]?["version"] == nil
        else { return user }
        var attributes = user.attributes
        var meta = attributes["meta"]?.objectValue ?? JSONObject()
        meta["version"] = .string(etag)
        attributes["meta"] = .object(meta)
        return SCIMUser(attributes: attributes)
    }
}
