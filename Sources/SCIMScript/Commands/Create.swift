import SCIMClient
import SCIMCore

/// `create ATTR=VALUE...`: creates (on ODM: upserts) users.
struct CreateCommand: BuiltinCommand {
    let name = "create"
    let signature = CommandSignature(input: .recordsOrArguments, access: .writes)
        .positional(.assignment, presence: .requiredWithoutInput, repeated: true)
    let summary = "create a user (ODM: update if the userName exists)"
    let help = """
        Creates one user from ATTR=VALUE arguments, or one user per input record (e.g. from `import users.csv`); \
        arguments then fill in or override attributes of every record. `email=ADDRESS` builds the emails list \
        with one work address; `active` defaults to true. Values are typed: true/false/numbers/null become JSON \
        values, quoted text stays a string.

        Request: POST {base_path}/Users with a User body (schemas, userName, displayName, active, emails).
        ODM treats it as an upsert: a user with the same userName is updated (still 201).
        """
    var examples: [CommandExample] {
        [
            CommandExample(
                #"create userName=ajohnson displayName="Alice Johnson" email=ajohnson@example.com"#,
                "create one user")
        ]
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        var overrides = JSONObject()
        for a in inv.arguments {
            if case .assignment(let n) = a.kind { overrides[n] = a.value }
        }
        let user = CreateCommand.user(from: JSONObject(), overrides: overrides)
        let label = inv.isFirst ? "request" : "for each input record"
        return [PlannedRequest(label, client.request("POST", path: "/Users", body: user.json))]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        var overrides = JSONObject()
        for arg in inv.arguments {
            switch arg.kind {
            case .assignment(let name):
                overrides[name] = AttributeValues.typed(name, arg.value, quoted: arg.quoted)
            default:
                throw inv.error("create takes ATTR=VALUE arguments (e.g. userName=bjensen)", at: arg.range)
            }
        }
        let upstream = input ?? ArraySource([JSONObject()])
        let client = try inv.context.client()
        let fixed = overrides
        let spec = WriteSpec(
            op: "create", verb: "created", sendsWrites: true,
            predict: { CreateCommand.user(from: $0, overrides: fixed).attributes },
            perform: { record in
                let user = CreateCommand.user(from: record, overrides: fixed)
                guard user.attributes["userName"]?.stringValue?.isEmpty == false else {
                    throw ScriptError("no userName (give userName=NAME or a userName column)")
                }
                return try await client.createUser(user).attributes
            },
            before: { record, _ in
                // ODM's create is an upsert: journal the user it would update, if there is one (a GET).
                let user = CreateCommand.user(from: record, overrides: fixed)
                guard let name = user.userName else { return .none }
                let filter = SCIMFilter.compare(AttributePath(name: "userName"), .eq, .literal(.string(name)))
                let found = try? await client.findUsers(filter: filter.description, count: 1).resources.first
                return found.map { .user($0.attributes) } ?? .none
            }, plansReadServer: false)
        return WriteStage(upstream: upstream, context: inv.context, spec: spec, range: inv.stage.range)
    }

    /// The User body for a record plus overrides: `email` becomes `emails`, `active` defaults to true,
    /// server-assigned attributes (id, meta) are left out. A schema-qualified attribute
    /// (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber=E-77`) goes into its
    /// extension's object, and `schemas` lists the core schema plus every extension the body carries
    /// (RFC 7643 §3).
    static func user(from record: Record, overrides: JSONObject) -> SCIMUser {
        var attrs = JSONObject()
        attrs["schemas"] = .array([.string(SCIMSchema.user)])
        var merged = record
        for (k, v) in overrides { merged[k] = v }
        for (k, v) in merged {
            switch k.lowercased() {
            case "id", "meta", "schemas": continue
            case "email", "emails.value":
                if let s = v.stringValue, !s.isEmpty { attrs["emails"] = AttributeValues.emails(s) }
            case "emails":
                if let o = v.objectValue, let s = o["value"]?.stringValue {
                    attrs["emails"] = AttributeValues.emails(s)  // {"emails":{"value":…}} from a dotted CSV header
                } else {
                    attrs["emails"] = v
                }
            default:
                if AttributePath.isExtensionSchema(k), let o = v.objectValue {
                    // An extension's whole object (from find's output): merged with attributes set one by one.
                    var ext = attrs[k]?.objectValue ?? JSONObject()
                    for (name, value) in o { ext[name] = value }
                    attrs[k] = .object(ext)
                } else if k.contains(".") || k.contains(":") {
                    attrs.setValue(v, atPath: k)
                } else {
                    attrs[k] = AttributeValues.typed(k, v, quoted: false)
                }
            }
        }
        if attrs["active"] == nil { attrs["active"] = .bool(true) }
        var schemas: [JSONValue] = [.string(SCIMSchema.user)]
        for (k, v) in attrs where v.objectValue != nil && AttributePath.isExtensionSchema(k) {
            if !schemas.contains(where: { $0.stringValue?.lowercased() == k.lowercased() }) {
                schemas.append(.string(k))
            }
        }
        attrs["schemas"] = .array(schemas)
        return SCIMUser(attributes: attrs)
    }
}
