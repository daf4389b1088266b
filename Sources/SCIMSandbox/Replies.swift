import HTTPTypes
import SCIMCore

/// A SCIM error to answer with: `{"schemas":[Error],"status":"400","scimType":...,"detail":...}`.
struct SCIMFailure: Error, Sendable {
    var status: Int
    var scimType: String?
    var detail: String
    var headers: [(HTTPField.Name, String)] = []
}

extension SCIMFailure {
    /// A 400 with this `scimType`.
    init(_ scimType: String, _ detail: String) {
        self.init(status: 400, scimType: scimType, detail: detail)
    }

    static func invalidValue(_ detail: String) -> SCIMFailure { SCIMFailure("invalidValue", detail) }
    static func invalidSyntax(_ detail: String) -> SCIMFailure { SCIMFailure("invalidSyntax", detail) }
    static func invalidFilter(_ detail: String) -> SCIMFailure { SCIMFailure("invalidFilter", detail) }
    static func invalidPath(_ detail: String) -> SCIMFailure { SCIMFailure("invalidPath", detail) }
    static func mutability(_ detail: String) -> SCIMFailure { SCIMFailure("mutability", detail) }
    static func noTarget(_ detail: String) -> SCIMFailure { SCIMFailure("noTarget", detail) }
    static func uniqueness(_ detail: String) -> SCIMFailure {
        SCIMFailure(status: 409, scimType: "uniqueness", detail: detail)
    }

    static let noSuchUser = SCIMFailure(status: 404, scimType: nil, detail: "There are no users with the specified id")
}

/// An answer before it becomes a Hummingbird `Response`.
struct SandboxReply: Sendable {
    static let scimJSON = "application/scim+json"
    static let plainJSON = "application/json"

    var status: Int
    var contentType: String?
    var body: [UInt8]
    var headers: [(HTTPField.Name, String)] = []
    /// Whether handling the request changed the store.
    var changedStore = false

    /// A SCIM resource or message.
    static func scim(_ status: Int, _ body: [UInt8], headers: [(HTTPField.Name, String)] = []) -> SandboxReply {
        SandboxReply(status: status, contentType: scimJSON, body: body, headers: headers)
    }

    /// A SCIM error body (400, 403, 404, 409, ...).
    static func failure(_ f: SCIMFailure) -> SandboxReply {
        var o = JSONObject()
        o["schemas"] = [.string(SCIMSchema.error)]
        o["status"] = .string(String(f.status))
        if let scimType = f.scimType { o["scimType"] = .string(scimType) }
        o["detail"] = .string(f.detail)
        return SandboxReply(
            status: f.status, contentType: scimJSON, body: JSONEncoderFast.encodeBytes(.object(o)), headers: f.headers)
    }

    /// ODM's non-SCIM error body `{"error":{"message":...}}` (401 and 500 come from its web layer).
    static func plainError(_ status: Int, _ message: String, headers: [(HTTPField.Name, String)] = []) -> SandboxReply {
        let body: JSONValue = ["error": ["message": .string(message)]]
        return SandboxReply(
            status: status, contentType: plainJSON, body: JSONEncoderFast.encodeBytes(body), headers: headers)
    }

    /// This reply, noting whether handling the request changed the store.
    func changing(_ changed: Bool = true) -> SandboxReply {
        var reply = self
        reply.changedStore = changed
        return reply
    }

    /// `204 No Content`.
    static let noContent = SandboxReply(status: 204, contentType: nil, body: [])
}
