import SCIMCore

/// The validated attributes of a create (`POST /Users`) body.
struct CreateInput: Sendable {
    var userName: String
    var displayName: String
    var active: Bool
    var emails: [SandboxEmail]
    /// The externalId; `nil` when the body has none (or `null`).
    var externalId: String?

    /// Validates a create body. Read-only (`id`, `meta`) and unknown attributes are ignored, as ODM does;
    /// `active` defaults to `true`.
    init(body: JSONValue) throws(SCIMFailure) {
        guard let o = body.objectValue else { throw .invalidSyntax("The request body must be a JSON object") }
        try Self.checkSchemas(o["schemas"], expected: SCIMSchema.user)
        userName = try Validate.requiredString(o["userName"], name: "userName")
        displayName = try Validate.requiredString(o["displayName"], name: "displayName")
        switch o["active"] {
        case nil, .null?: active = true
        case .bool(let b)?: active = b
        case let other?: throw .invalidValue("Attribute 'active' must be a boolean, not \(Validate.kind(other))")
        }
        guard let emailsValue = o["emails"], !emailsValue.isNull else {
            throw .invalidValue("Attribute 'emails' is required")
        }
        emails = try Validate.emails(emailsValue)
        externalId = try Validate.optionalString(o["externalId"], name: "externalId")
    }

    /// Accepts a body without `schemas` (lenient); a present `schemas` must be an array of strings that names
    /// `expected`.
    static func checkSchemas(_ value: JSONValue?, expected: String) throws(SCIMFailure) {
        guard let value, !value.isNull else { return }
        guard let items = value.arrayValue else { throw .invalidSyntax("Attribute 'schemas' must be an array") }
        let names = items.compactMap(\.stringValue).map { $0.lowercased() }
        guard names.count == items.count else { throw .invalidSyntax("Attribute 'schemas' must contain strings") }
        guard names.contains(expected.lowercased()) else {
            throw .invalidSyntax("Attribute 'schemas' must contain \"\(expected)\"")
        }
    }
}

/// Type and content checks shared by create and PATCH.
enum Validate {
    /// ODM keeps one email per user.
    static let maxEmails = 1

    /// A JSON type name for error messages.
    static func kind(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number, .bigInteger: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// A present, non-blank string.
    static func requiredString(_ v: JSONValue?, name: String) throws(SCIMFailure) -> String {
        guard let v, !v.isNull else { throw .invalidValue("Attribute '\(name)' is required") }
        guard let s = v.stringValue else {
            throw .invalidValue("Attribute '\(name)' must be a string, not \(kind(v))")
        }
        guard !s.trimmingWhitespace().isEmpty else { throw .invalidValue("Attribute '\(name)' must not be empty") }
        return s
    }

    /// A string, or `nil` for absent and `null`.
    static func optionalString(_ v: JSONValue?, name: String) throws(SCIMFailure) -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.stringValue else {
            throw .invalidValue("Attribute '\(name)' must be a string, not \(kind(v))")
        }
        return s
    }

    /// A Boolean.
    static func bool(_ v: JSONValue?, name: String) throws(SCIMFailure) -> Bool {
        guard let v, !v.isNull else { throw .invalidValue("Attribute '\(name)' is required") }
        guard let b = v.boolValue else { throw .invalidValue("Attribute '\(name)' must be a boolean, not \(kind(v))") }
        return b
    }

    /// An address with a non-empty local part and domain, and no spaces.
    static func emailAddress(_ v: JSONValue?) throws(SCIMFailure) -> String {
        let s = try requiredString(v, name: "emails.value")
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !s.contains(where: \.isWhitespace) else {
            throw .invalidValue("'\(s)' is not a valid email address")
        }
        return s
    }

    /// One email item `{type, value, primary}`; `type` defaults to `work` (the only type ODM accepts) and
    /// `primary` to `true`.
    static func email(_ v: JSONValue) throws(SCIMFailure) -> SandboxEmail {
        guard let o = v.objectValue else { throw .invalidValue("An email must be an object, not \(kind(v))") }
        let value = try emailAddress(o["value"])
        let type = try optionalString(o["type"], name: "emails.type") ?? "work"
        guard type == "work" else {
            throw .invalidValue("Attribute 'emails.type' must be 'work' (the only type supported), not '\(type)'")
        }
        var primary = true
        if let p = o["primary"], !p.isNull {
            guard let b = p.boolValue else {
                throw .invalidValue("Attribute 'emails.primary' must be a boolean, not \(kind(p))")
            }
            primary = b
        }
        return SandboxEmail(type: type, value: value, primary: primary)
    }

    /// The `emails` attribute: an array of one email (ODM accepts only one).
    static func emails(_ v: JSONValue) throws(SCIMFailure) -> [SandboxEmail] {
        guard let items = v.arrayValue else {
            throw .invalidValue("Attribute 'emails' must be an array, not \(kind(v))")
        }
        var out: [SandboxEmail] = []
        for item in items { out.append(try email(item)) }
        try count(out)
        return out
    }

    /// Exactly one email.
    static func count(_ emails: [SandboxEmail]) throws(SCIMFailure) {
        if emails.isEmpty { throw .invalidValue("Attribute 'emails' must contain an email") }
        if emails.count > maxEmails { throw .invalidValue("Only one email per user is supported") }
    }
}
