/// A SCIM Group resource (RFC 7643 §4.2): typed accessors over a JSON object that keeps every attribute the server
/// sent.
///
/// ODM's groups have `displayName`, `externalId` and `members`; a member is `{"value": USER_ID, "$ref": URI,
/// "display": NAME}`. Other servers' attributes stay in ``attributes`` untouched.
public struct SCIMGroup: SCIMResource {
    /// `Group`.
    public static let resourceType = "Group"

    /// One member of a group: a user's id, the URI of the user resource and its display name.
    public struct Member: Sendable, Hashable {
        /// The member's id (ODM: a user id).
        public var value: String
        /// The URI of the member resource (`$ref`), when the server sends it.
        public var ref: String?
        /// The member's display name, when the server sends it.
        public var display: String?

        /// A member; a request needs only ``value``.
        public init(value: String, ref: String? = nil, display: String? = nil) {
            self.value = value
            self.ref = ref
            self.display = display
        }

        /// The member as JSON (`value`, then `$ref` and `display` when set).
        public var json: JSONValue {
            var o = JSONObject()
            o["value"] = .string(value)
            if let ref { o["$ref"] = .string(ref) }
            if let display { o["display"] = .string(display) }
            return .object(o)
        }
    }

    /// All attributes, in the server's order.
    public var attributes: JSONObject

    /// A group from its JSON object.
    public init(attributes: JSONObject) { self.attributes = attributes }

    /// A new group to create: ODM requires `displayName` and no members (the creator becomes its admin).
    public init(displayName: String, externalId: String? = nil, members: [Member] = []) {
        var o = JSONObject()
        o["schemas"] = .array([.string(SCIMSchema.group)])
        if let externalId { o["externalId"] = .string(externalId) }
        o["displayName"] = .string(displayName)
        if !members.isEmpty { o["members"] = .array(members.map(\.json)) }
        attributes = o
    }

    /// The members the server sent, in its order; `nil` when the group came without `members` (asked with
    /// `excludedAttributes=members`, or a server that leaves an empty list out). Items without a string `value`
    /// are skipped.
    public var members: [Member]? {
        guard let items = attributes["members"]?.arrayValue else { return nil }
        return items.compactMap { item in
            guard let value = item["value"]?.stringValue else { return nil }
            return Member(value: value, ref: item["$ref"]?.stringValue, display: item["display"]?.stringValue)
        }
    }
}
