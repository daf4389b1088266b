import SCIMCore

/// What a server's `/ServiceProviderConfig` says it supports (RFC 7643 §5).
///
/// A feature the document leaves out counts as not supported, as RFC 7643 §5 makes `supported` required.
public struct ServiceProviderConfig: Sendable, Hashable {
    /// PATCH (RFC 7644 §3.5.2).
    public var patch: Bool
    /// Bulk operations (RFC 7644 §3.7).
    public var bulk: Bool
    /// The most operations one bulk request may hold, when bulk is supported.
    public var bulkMaxOperations: Int?
    /// The largest bulk request body in bytes, when bulk is supported.
    public var bulkMaxPayloadSize: Int?
    /// Filtering of listings (RFC 7644 §3.4.2.2).
    public var filter: Bool
    /// The most resources one listing answers with (`filter.maxResults`).
    public var maxResults: Int?
    /// Changing passwords.
    public var changePassword: Bool
    /// Sorting of listings (`sortBy`, RFC 7644 §3.4.2.3).
    public var sort: Bool
    /// Resource versions with ETags (RFC 7644 §3.14).
    public var etag: Bool
    /// The names of the authentication schemes it lists (`OAuth Bearer Token`, ...).
    public var authenticationSchemes: [String]

    /// A configuration; every feature is off unless given.
    public init(
        patch: Bool = false, bulk: Bool = false, bulkMaxOperations: Int? = nil, bulkMaxPayloadSize: Int? = nil,
        filter: Bool = false, maxResults: Int? = nil, changePassword: Bool = false, sort: Bool = false,
        etag: Bool = false, authenticationSchemes: [String] = []
    ) {
        self.patch = patch
        self.bulk = bulk
        self.bulkMaxOperations = bulkMaxOperations
        self.bulkMaxPayloadSize = bulkMaxPayloadSize
        self.filter = filter
        self.maxResults = maxResults
        self.changePassword = changePassword
        self.sort = sort
        self.etag = etag
        self.authenticationSchemes = authenticationSchemes
    }

    /// The schema URN of the document (RFC 7643 §8.7.2).
    public static let schema = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"

    /// Reads the document; `nil` when it is not one: neither its `schemas` names ``schema`` nor does it hold any
    /// of the features as an object (a server that answers every path with the same listing).
    public init?(json: JSONValue) {
        guard let o = json.objectValue else { return nil }
        let features = ["patch", "bulk", "filter", "changePassword", "sort", "etag"]
        let named = o["schemas"]?.arrayValue?.contains { $0.stringValue == ServiceProviderConfig.schema } ?? false
        guard named || features.contains(where: { o[$0]?.objectValue != nil }) else { return nil }
        func supported(_ key: String) -> Bool { o[key]?["supported"]?.boolValue ?? false }
        func whole(_ key: String, _ member: String) -> Int? {
            guard let n = o[key]?[member]?.numberValue, n >= 0, n < 1e15, n == n.rounded() else { return nil }
            return Int(n)
        }
        self.init(
            patch: supported("patch"), bulk: supported("bulk"),
            bulkMaxOperations: whole("bulk", "maxOperations"), bulkMaxPayloadSize: whole("bulk", "maxPayloadSize"),
            filter: supported("filter"), maxResults: whole("filter", "maxResults"),
            changePassword: supported("changePassword"), sort: supported("sort"), etag: supported("etag"),
            authenticationSchemes: (o["authenticationSchemes"]?.arrayValue ?? []).compactMap {
                $0["name"]?.stringValue
            })
    }
}

/// One attribute of a schema (RFC 7643 §7): its type and characteristics.
public struct SchemaAttribute: Sendable, Hashable {
    /// The attribute's name (`userName`, `emails`, `value`).
    public var name: String
    /// The SCIM data type (RFC 7643 §2.3): `string`, `boolean`, `decimal`, `integer`, `dateTime`, `binary`,
    /// `reference` or `complex`.
    public var type: String
    /// Whether it holds a list of values.
    public var multiValued: Bool
    /// Whether string comparisons are case-sensitive (RFC 7643 §2.2 default: false).
    public var caseExact: Bool
    /// `readOnly`, `readWrite` (the default), `immutable` or `writeOnly`.
    public var mutability: String
    /// `always`, `never`, `default` (the default) or `request`.
    public var returned: String
    /// `none` (the default), `server` or `global`.
    public var uniqueness: String
    /// Whether a resource must have it.
    public var required: Bool
    /// The values it may take, when the schema lists them (`work`, `home`, ...).
    public var canonicalValues: [String]
    /// The sub-attributes of a complex attribute.
    public var subAttributes: [SchemaAttribute]

    /// An attribute with the RFC 7643 §2.2 defaults for what is not given.
    public init(
        name: String, type: String = "string", multiValued: Bool = false, caseExact: Bool = false,
        mutability: String = "readWrite", returned: String = "default", uniqueness: String = "none",
        required: Bool = false, canonicalValues: [String] = [], subAttributes: [SchemaAttribute] = []
    ) {
        self.name = name
        self.type = type
        self.multiValued = multiValued
        self.caseExact = caseExact
        self.mutability = mutability
        self.returned = returned
        self.uniqueness = uniqueness
        self.required = required
        self.canonicalValues = canonicalValues
        self.subAttributes = subAttributes
    }

    /// Reads one attribute definition; `nil` without a name.
    public init?(json: JSONValue) {
        guard let o = json.objectValue, let name = o["name"]?.stringValue, !name.isEmpty else { return nil }
        self.init(
            name: name, type: o["type"]?.stringValue ?? "string", multiValued: o["multiValued"]?.boolValue ?? false,
            caseExact: o["caseExact"]?.boolValue ?? false, mutability: o["mutability"]?.stringValue ?? "readWrite",
            returned: o["returned"]?.stringValue ?? "default", uniqueness: o["uniqueness"]?.stringValue ?? "none",
            required: o["required"]?.boolValue ?? false,
            canonicalValues: (o["canonicalValues"]?.arrayValue ?? []).compactMap(\.stringValue),
            subAttributes: (o["subAttributes"]?.arrayValue ?? []).compactMap(SchemaAttribute.init(json:)))
    }

    /// The sub-attribute of that name (case-insensitive).
    public func subAttribute(_ name: String) -> SchemaAttribute? {
        subAttributes.first { $0.name.lowercased() == name.lowercased() }
    }
}

/// A schema from `/Schemas` (RFC 7643 §7): the core User schema, an extension, ...
public struct SchemaDefinition: Sendable, Hashable {
    /// The schema's URN (`urn:ietf:params:scim:schemas:core:2.0:User`).
    public var id: String
    /// Its name (`User`), if given.
    public var name: String?
    /// Its attributes.
    public var attributes: [SchemaAttribute]

    /// A schema.
    public init(id: String, name: String? = nil, attributes: [SchemaAttribute]) {
        self.id = id
        self.name = name
        self.attributes = attributes
    }

    /// Reads one schema; `nil` without an id.
    public init?(json: JSONValue) {
        guard let o = json.objectValue, let id = o["id"]?.stringValue, !id.isEmpty else { return nil }
        self.init(
            id: id, name: o["name"]?.stringValue,
            attributes: (o["attributes"]?.arrayValue ?? []).compactMap(SchemaAttribute.init(json:)))
    }

    /// The top-level attribute of that name (case-insensitive).
    public func attribute(_ name: String) -> SchemaAttribute? {
        attributes.first { $0.name.lowercased() == name.lowercased() }
    }
}

/// A resource type from `/ResourceTypes` (RFC 7643 §6): where a kind of resource lives and its schemas.
public struct ResourceTypeInfo: Sendable, Hashable {
    /// Its name (`User`).
    public var name: String
    /// Its endpoint relative to the base URL (`/Users`).
    public var endpoint: String
    /// Its core schema's URN.
    public var schema: String
    /// Its extension schemas' URNs, and whether each is required.
    public var schemaExtensions: [(schema: String, required: Bool)]

    /// A resource type.
    public init(name: String, endpoint: String, schema: String, schemaExtensions: [(schema: String, required: Bool)]) {
        self.name = name
        self.endpoint = endpoint
        self.schema = schema
        self.schemaExtensions = schemaExtensions
    }

    /// Reads one resource type; `nil` without a name or schema.
    public init?(json: JSONValue) {
        guard let o = json.objectValue, let name = o["name"]?.stringValue ?? o["id"]?.stringValue,
            let schema = o["schema"]?.stringValue
        else { return nil }
        let extensions = (o["schemaExtensions"]?.arrayValue ?? []).compactMap { e -> (String, Bool)? in
            guard let s = e["schema"]?.stringValue else { return nil }
            return (s, e["required"]?.boolValue ?? false)
        }
        self.init(
            name: name, endpoint: o["endpoint"]?.stringValue ?? "/" + name + "s", schema: schema,
            schemaExtensions: extensions.map { (schema: $0.0, required: $0.1) })
    }

    public static func == (lhs: ResourceTypeInfo, rhs: ResourceTypeInfo) -> Bool {
        lhs.name == rhs.name && lhs.endpoint == rhs.endpoint && lhs.schema == rhs.schema
            && lhs.schemaExtensions.map(\.schema) == rhs.schemaExtensions.map(\.schema)
            && lhs.schemaExtensions.map(\.required) == rhs.schemaExtensions.map(\.required)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(schema)
    }
}

/// What a server said about itself at its discovery endpoints (RFC 7644 §4), or that it offers none.
public struct ServerDiscovery: Sendable, Hashable {
    /// The server's features; `nil` when it has no `/ServiceProviderConfig` (Genestack ODM answers 404).
    public var config: ServiceProviderConfig?
    /// Its resource types (empty when not offered).
    public var resourceTypes: [ResourceTypeInfo]
    /// Its schemas (empty when not offered).
    public var schemas: [SchemaDefinition]
    /// Why there is no discovery, for `help server` (`404 Not Found at /ServiceProviderConfig`).
    public var absence: String?

    /// A discovery result.
    public init(
        config: ServiceProviderConfig?, resourceTypes: [ResourceTypeInfo] = [], schemas: [SchemaDefinition] = [],
        absence: String? = nil
    ) {
        self.config = config
        self.resourceTypes = resourceTypes
        self.schemas = schemas
        self.absence = absence
    }

    /// A server that offers no discovery endpoints.
    public static func notOffered(_ why: String) -> ServerDiscovery {
        ServerDiscovery(config: nil, absence: why)
    }

    /// Whether the server offers `/ServiceProviderConfig`.
    public var isOffered: Bool { config != nil }

    /// The User resource type, when listed.
    public var userType: ResourceTypeInfo? {
        resourceTypes.first { $0.endpoint.lowercased() == "/users" || $0.name.lowercased() == "user" }
    }

    /// The schema with that URN (case-insensitive).
    public func schema(_ id: String) -> SchemaDefinition? {
        schemas.first { $0.id.lowercased() == id.lowercased() }
    }

    /// The schemas of users: the User resource type's core schema and extensions, else the RFC's User schema and
    /// any extension schema whose URN ends in `:User`.
    public var userSchemas: (core: SchemaDefinition?, extensions: [SchemaDefinition]) {
        if let type = userType {
            return (schema(type.schema), type.schemaExtensions.compactMap { schema($0.schema) })
        }
        let extensions = schemas.filter { $0.id.lowercased().hasSuffix(":user") && $0.id != SCIMSchema.user }
        return (schema(SCIMSchema.user), extensions)
    }

    /// The definition of a user attribute path (`userName`, `name.givenName`, `emails.value`,
    /// `urn:…:enterprise:2.0:User:employeeNumber`), or `nil` when the server's schemas do not have it (or were
    /// not offered).
    public func userAttribute(_ path: AttributePath) -> SchemaAttribute? {
        let (core, extensions) = userSchemas
        let top: SchemaAttribute?
        if let urn = path.schema {
            top =
                (core?.id.lowercased() == urn.lowercased()
                ? core
                : extensions.first {
                    $0.id.lowercased() == urn.lowercased()
                })?.attribute(path.name)
        } else {
            top = core?.attribute(path.name) ?? extensions.lazy.compactMap { $0.attribute(path.name) }.first
        }
        guard let top else {
            // `id`, `externalId` and `meta` are common attributes (RFC 7643 §3.1), outside every schema.
            return path.schema == nil ? ServerDiscovery.commonAttribute(path) : nil
        }
        guard let sub = path.subAttribute else { return top }
        return top.subAttribute(sub)
    }

    /// Whether string values of a user attribute compare case-sensitively: the server's `caseExact` when its
    /// schema has the attribute, else `nil` (the caller applies ``defaultCaseExact(_:)`` or its own).
    public func caseExact(_ path: AttributePath) -> Bool? { userAttribute(path)?.caseExact }

    /// RFC 7643's `caseExact` for a user attribute when no schema says: true for `id`, `externalId`,
    /// `meta.resourceType`, `meta.location` and `meta.version` (§3.1), false for everything else (§2.2).
    public static func defaultCaseExact(_ path: AttributePath) -> Bool {
        path.schema == nil ? commonAttribute(path)?.caseExact ?? false : false
    }

    /// Every user attribute path the schemas define, for completion and suggestions: `userName`, `name`,
    /// `name.givenName`, ... and an extension's as `urn:…:User:employeeNumber`, plus the common attributes.
    public var userAttributePaths: [String] {
        let (core, extensions) = userSchemas
        guard core != nil || !extensions.isEmpty else { return [] }
        var out: [String] = [
            "id", "externalId", "meta.created", "meta.lastModified", "meta.location",
            "meta.resourceType", "meta.version",
        ]
        func add(_ attributes: [SchemaAttribute], prefix: String) {
            for a in attributes {
                out.append(prefix + a.name)
                for s in a.subAttributes { out.append(prefix + a.name + "." + s.name) }
            }
        }
        if let core { add(core.attributes, prefix: "") }
        for e in extensions { add(e.attributes, prefix: e.id + ":") }
        var seen = Set<String>()
        return out.filter { seen.insert($0.lowercased()).inserted }
    }

    /// The user attributes whose strings compare case-sensitively, as `name` or `name.sub` without a schema
    /// prefix (`id`, `externalId`, `meta.version`, `groups.value`, `manager.value`): the common attributes' RFC
    /// defaults plus every attribute and sub-attribute the schemas mark `caseExact`. Empty when no schema was read.
    public var caseExactUserPaths: [String] {
        let (core, extensions) = userSchemas
        guard core != nil || !extensions.isEmpty else { return [] }
        var out = ["id", "externalId", "meta.resourceType", "meta.location", "meta.version"]
        for schema in [core].compactMap({ $0 }) + extensions {
            for a in schema.attributes {
                if a.caseExact { out.append(a.name) }
                for s in a.subAttributes where s.caseExact { out.append(a.name + "." + s.name) }
            }
        }
        return out
    }

    /// The common attributes every resource has (RFC 7643 §3.1), which schemas do not list.
    static func commonAttribute(_ path: AttributePath) -> SchemaAttribute? {
        switch path.name.lowercased() {
        case "id":
            return path.subAttribute == nil ? SchemaAttribute(name: "id", caseExact: true, mutability: "readOnly") : nil
        case "externalid":
            return path.subAttribute == nil ? SchemaAttribute(name: "externalId", caseExact: true) : nil
        case "meta":
            let subs = [
                SchemaAttribute(name: "resourceType", caseExact: true, mutability: "readOnly"),
                SchemaAttribute(name: "created", type: "dateTime", mutability: "readOnly"),
                SchemaAttribute(name: "lastModified", type: "dateTime", mutability: "readOnly"),
                SchemaAttribute(name: "location", type: "reference", caseExact: true, mutability: "readOnly"),
                SchemaAttribute(name: "version", caseExact: true, mutability: "readOnly"),
            ]
            let meta = SchemaAttribute(name: "meta", type: "complex", mutability: "readOnly", subAttributes: subs)
            guard let sub = path.subAttribute else { return meta }
            return meta.subAttribute(sub)
        default: return nil
        }
    }
}

extension SCIMClient {
    /// Reads the server's discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`, then `/ResourceTypes` and
    /// `/Schemas`. Each request is sent once, without retries.
    ///
    /// A server without them (Genestack ODM answers 404) gives ``ServerDiscovery/notOffered(_:)``, as does any
    /// answer that is not a ServiceProviderConfig (400, 404, 405, 501, a body that is not JSON). A failure that
    /// says nothing about the server's endpoints (no answer, 401, 403, 429, 5xx) throws, so a later call asks
    /// again. When `/ServiceProviderConfig` answers but `/ResourceTypes` or `/Schemas` does not, those are empty.
    public func discover() async throws(SCIMError) -> ServerDiscovery {
        var once = configuration
        once.retry = .none
        let client = with(configuration: once, observer: observer)
        let config: ServiceProviderConfig
        switch await client.discoveryDocument("/ServiceProviderConfig") {
        case .success(let json):
            guard let c = ServiceProviderConfig(json: json) else {
                return .notOffered("/ServiceProviderConfig answered with something that is not a ServiceProviderConfig")
            }
            config = c
        case .failure(let error):
            if let why = ServerDiscovery.absence(error) { return .notOffered(why) }
            throw error
        }
        async let types = client.discoveryDocument("/ResourceTypes")
        async let schemas = client.discoveryDocument("/Schemas")
        return ServerDiscovery(
            config: config,
            resourceTypes: ServerDiscovery.resources(try? await types.get()).compactMap(ResourceTypeInfo.init(json:)),
            schemas: ServerDiscovery.resources(try? await schemas.get()).compactMap(SchemaDefinition.init(json:)))
    }

    /// The largest answer read as a discovery document: 4 MiB.
    static let maxDiscoveryBytes = 4 << 20

    /// GETs one discovery document as JSON. One larger than ``maxDiscoveryBytes`` is not taken for one (a
    /// server's configuration and schemas are kilobytes; a server answering every path with a listing is not
    /// parsed for it).
    func discoveryDocument(_ path: String) async -> Result<JSONValue, SCIMError> {
        let r = request("GET", path: path)
        do {
            let response = try await perform(r, idempotent: true)
            guard response.body.count <= Self.maxDiscoveryBytes else {
                return .failure(
                    .invalidResponse(
                        status: response.status,
                        detail: "\(response.body.count) bytes, too large for a discovery document",
                        method: r.method, url: r.url))
            }
            return .success(try decodeJSON(response, r))
        } catch {
            return .failure(error)
        }
    }
}

extension ServerDiscovery {
    /// Why a failed `/ServiceProviderConfig` request means the server has no discovery, or `nil` when the failure
    /// says nothing about that (no answer, 401, 403, 429, 5xx other than 501).
    static func absence(_ error: SCIMError) -> String? {
        guard let status = error.status else { return nil }
        if error.isInvalidResponse {
            let what = "a body that is not a discovery document"
            return "/ServiceProviderConfig answered \(status) with \(what): \(error.detail)"
        }
        guard [400, 404, 405, 406, 410, 501].contains(status) else { return nil }
        return "/ServiceProviderConfig answered \(status) \(HTTPStatusText.reason(status))"
    }

    /// The resources of a discovery listing: a ListResponse's `Resources`, or a plain JSON array.
    static func resources(_ json: JSONValue?) -> [JSONValue] {
        if let list = json?["Resources"]?.arrayValue { return list }
        return json?.arrayValue ?? []
    }
}

/// Discovery results per server (base URL), read once and shared by every client of a session: the first caller
/// sends the requests, callers meanwhile wait for the same answer.
public final class DiscoveryCache: Sendable {
    enum Entry {
        case pending(Task<Result<ServerDiscovery, SCIMError>, Never>)
        case done(ServerDiscovery)
        /// Could not be read (no answer, 403, 5xx) with this configuration: not asked again before `until`.
        case failed(until: ContinuousClock.Instant, configuration: SCIMConfiguration)
    }

    private let entries = LockedValue<[String: Entry]>([:])
    /// How long a failure to read is remembered.
    public let failureLifetime: Duration

    /// An empty cache. A server whose discovery could not be read (no answer in time, 403, 5xx) is not asked again
    /// for `failureLifetime` with the same configuration, so that a stalled server costs one timeout a minute and
    /// not one per statement; another token or timeout asks at once, and a 401 and Ctrl-C are not remembered.
    public init(failureLifetime: Duration = .seconds(60)) { self.failureLifetime = failureLifetime }

    /// The server's discovery, read with `client` on first use; `nil` when it could not be read (no answer, 401,
    /// ...), in which case a later call asks again (see ``init(failureLifetime:)``).
    public func discovery(using client: SCIMClient) async -> ServerDiscovery? {
        let key = client.configuration.baseURL
        let now = ContinuousClock.now
        let task = entries.withLock { e -> Task<Result<ServerDiscovery, SCIMError>, Never>? in
            switch e[key] {
            case .done: return nil
            case .failed(let until, let configuration) where now < until && configuration == client.configuration:
                return nil
            case .pending(let t): return t
            case .failed, nil:
                let made = Task<Result<ServerDiscovery, SCIMError>, Never> {
                    do throws(SCIMError) { return .success(try await client.discover()) } catch {
                        return .failure(error)
                    }
                }
                e[key] = .pending(made)
                return made
            }
        }
        guard let task else { return known(baseURL: key) }
        // Ctrl-C while the requests are out ends the wait at once; nothing is kept, so the next call asks again.
        let result = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        let lifetime = failureLifetime
        entries.withLock { e in
            guard case .pending(let t) = e[key], t == task else { return }
            switch result {
            case .success(let d): e[key] = .done(d)
            case .failure(let error) where error.isCancelled || error.status == 401 || Task.isCancelled: e[key] = nil
            case .failure:
                e[key] = .failed(until: ContinuousClock.now + lifetime, configuration: client.configuration)
            }
        }
        return try? result.get()
    }

    /// The discovery already read for a base URL, without sending anything (`nil`: not read yet, or unreadable).
    public func known(baseURL: String) -> ServerDiscovery? {
        entries.withLock { e in
            if case .done(let d) = e[baseURL] { return d }
            return nil
        }
    }

    /// Forgets every result (the next use reads again).
    public func clear() { entries.withLock { $0 = [:] } }
}
