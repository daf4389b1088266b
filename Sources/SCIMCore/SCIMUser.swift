/// Schema URIs and media types from RFC 7643 / RFC 7644.
public enum SCIMSchema {
    /// The core User schema.
    public static let user = "urn:ietf:params:scim:schemas:core:2.0:User"
    /// The core Group schema.
    public static let group = "urn:ietf:params:scim:schemas:core:2.0:Group"
    /// The enterprise User extension.
    public static let enterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    /// The ListResponse message.
    public static let listResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    /// The PatchOp message.
    public static let patchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    /// The Error message.
    public static let error = "urn:ietf:params:scim:api:messages:2.0:Error"
    /// The SCIM media type.
    public static let mediaType = "application/scim+json"
}

/// A SCIM User resource: typed accessors over a JSON object that keeps every attribute the server sent.
///
/// Servers other than ODM return attributes scimsh does not model (`name`, the enterprise extension,
/// ...). They stay in ``attributes`` and are shown and written back untouched.
public struct SCIMUser: SCIMResource {
    /// `User`.
    public static let resourceType = "User"

    /// All attributes, in the server's order.
    public var attributes: JSONObject

    /// A user from its JSON object.
    public init(attributes: JSONObject) { self.attributes = attributes }

    /// A new user with the attributes ODM requires; `active` defaults to true, the email is of type work.
    public init(userName: String, displayName: String, email: String?, active: Bool = true, externalId: String? = nil) {
        var o = JSONObject()
        o["schemas"] = .array([.string(SCIMSchema.user)])
        if let externalId { o["externalId"] = .string(externalId) }
        o["userName"] = .string(userName)
        o["displayName"] = .string(displayName)
        o["active"] = .bool(active)
        if let email {
            o["emails"] = .array([
                .object(JSONObject([("type", "work"), ("value", .string(email)), ("primary", true)]))
            ])
        }
        attributes = o
    }

    /// The login name.
    public var userName: String? { attributes["userName"]?.stringValue }
    /// Whether the account is active.
    public var active: Bool? { attributes["active"]?.boolValue }
    /// The primary email, else the first one.
    public var email: String? {
        guard let emails = attributes["emails"]?.arrayValue else { return nil }
        let primary = emails.first { $0["primary"]?.boolValue == true } ?? emails.first
        return primary?["value"]?.stringValue
    }
}

/// One operation of a SCIM PATCH request (RFC 7644 §3.5.2).
public struct PatchOperation: Sendable, Hashable {
    /// The kind of operation.
    public enum Op: String, Sendable, Hashable, CaseIterable {
        case add, replace, remove
    }

    /// add, replace or remove.
    public var op: Op
    /// The attribute path, or `nil` for the path-less form whose value is an object of attributes.
    public var path: String?
    /// The value (absent for remove).
    public var value: JSONValue?

    /// An operation.
    public init(op: Op, path: String?, value: JSONValue?) {
        self.op = op
        self.path = path
        self.value = value
    }

    /// The operation as JSON.
    public var json: JSONValue {
        var o = JSONObject()
        o["op"] = .string(op.rawValue)
        if let path { o["path"] = .string(path) }
        if let value { o["value"] = value }
        return .object(o)
    }

    /// A PatchOp request body for these operations.
    public static func body(_ operations: [PatchOperation]) -> JSONValue {
        .object(
            JSONObject([("schemas", [.string(SCIMSchema.patchOp)]), ("Operations", .array(operations.map(\.json)))]))
    }
}

/// A kind of SCIM resource the client reads as a typed view over its JSON object (``SCIMUser``, ``SCIMGroup``).
public protocol SCIMResource: Sendable, Hashable {
    /// The resource type as SCIM names it (`meta.resourceType`): `User`, `Group`.
    static var resourceType: String { get }
    /// The resource from its JSON object.
    init(attributes: JSONObject)
    /// All attributes, in the server's order.
    var attributes: JSONObject { get }
}

extension SCIMResource {
    /// The resource from a JSON value; `nil` unless it is an object.
    public init?(json: JSONValue) {
        guard let o = json.objectValue else { return nil }
        self.init(attributes: o)
    }

    /// The server-assigned id.
    public var id: String? { attributes["id"]?.stringValue }
    /// The display name (a group's name, which ODM does not require to be unique).
    public var displayName: String? { attributes["displayName"]?.stringValue }
    /// The client's identifier for the resource.
    public var externalId: String? { attributes["externalId"]?.stringValue }
    /// The resource as a JSON value.
    public var json: JSONValue { .object(attributes) }
}

/// One page of users (`GET /Users`).
public typealias ListResponse = SCIMListResponse<SCIMUser>

/// One page of groups (`GET /Groups`).
public typealias GroupListResponse = SCIMListResponse<SCIMGroup>

/// One page of a SCIM list response (RFC 7644 §3.4.2).
public struct SCIMListResponse<Resource: SCIMResource>: Sendable, Hashable {
    /// The total number of matching resources on the server.
    public var totalResults: Int
    /// The 1-based index of the first resource on this page.
    public var startIndex: Int
    /// Whether the server said ``startIndex`` (a missing one is taken as 1).
    public var startIndexReported: Bool = true
    /// The number of resources on this page.
    public var itemsPerPage: Int
    /// The resources.
    public var resources: [Resource]

    /// A page from its parts.
    public init(totalResults: Int, startIndex: Int, itemsPerPage: Int, resources: [Resource]) {
        self.totalResults = totalResults
        self.startIndex = startIndex
        self.itemsPerPage = itemsPerPage
        self.resources = resources
    }

    /// Reads a ListResponse; `nil` when the JSON is not one. Missing counters are derived from the resources.
    public init?(json: JSONValue) {
        guard let o = json.objectValue else { return nil }
        let resourcesValue = o["Resources"] ?? .array([])
        guard let items = resourcesValue.arrayValue else { return nil }
        var resources: [Resource] = []
        resources.reserveCapacity(items.count)
        for item in items {
            guard let resource = Resource(json: item) else { return nil }
            resources.append(resource)
        }
        func int(_ key: String) -> Int? {
            if let n = o[key]?.numberValue, n.isFinite, abs(n) < 1e15 { return Int(n) }
            return nil
        }
        guard let total = int("totalResults") else { return nil }
        totalResults = total
        startIndex = int("startIndex") ?? 1
        startIndexReported = int("startIndex") != nil
        itemsPerPage = int("itemsPerPage") ?? resources.count
        self.resources = resources
    }
}
