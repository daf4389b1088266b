import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SCIMCore
import SCIMSandbox
import XCTest

/// The base path of the default configuration.
let base = "/api/v1/scim"
/// RFC 7643's Barbara Jensen, a seed user.
let bjensenId = "2819c223-7f76-453a-919d-413861904646"
/// A deactivated seed user.
let okovalId = "c5e7f9a1-3c5d-4e7f-a0b2-6c8d0e2f5d05"
let admin = SandboxConfiguration.defaultAdminToken
let limited = SandboxConfiguration.defaultLimitedToken

/// How a test sends its token.
enum TokenStyle: Sendable {
    case bearer(String)
    case genestack(String)
    case none
}

/// A response with its body parsed when it is JSON.
struct Reply: Sendable {
    var status: Int
    var headers: HTTPFields
    var text: String
    var json: JSONValue? { try? JSONParser.parse(text) }

    var scimType: String? { json?["scimType"]?.stringValue }
    var detail: String? { json?["detail"]?.stringValue }
    var errorMessage: String? { json?["error"]?["message"]?.stringValue }
    var contentType: String? { headers[.contentType] }
}

extension TestClientProtocol {
    /// Sends a request to the sandbox under test.
    func send(
        _ method: HTTPRequest.Method, _ path: String, auth: TokenStyle = .bearer(admin), json: JSONValue? = nil,
        raw: String? = nil, contentType: String? = "application/scim+json"
    ) async throws -> Reply {
        var headers = HTTPFields()
        switch auth {
        case .bearer(let t): headers[.authorization] = "Bearer \(t)"
        case .genestack(let t):
            if let name = HTTPField.Name("Genestack-API-Token") { headers[name] = t }
        case .none: break
        }
        var body: ByteBuffer?
        if let json { body = ByteBuffer(string: JSONEncoderFast.encode(json)) }
        if let raw { body = ByteBuffer(string: raw) }
        if body != nil, let contentType { headers[.contentType] = contentType }
        let response = try await executeRequest(uri: base + path, method: method, headers: headers, body: body)
        return Reply(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
    }
}

/// Runs `body` against a fresh in-process sandbox (HummingbirdTesting's router framework).
func withSandbox(
    _ configuration: SandboxConfiguration = SandboxConfiguration(),
    _ body: @Sendable (Sandbox, any TestClientProtocol) async throws -> Void
) async throws {
    let sandbox = Sandbox(configuration: configuration)
    try await sandbox.makeApplication().test(.router) { client in
        try await body(sandbox, client)
    }
}

/// A create body.
func userBody(
    _ userName: String, displayName: String = "Test User", email: String? = nil, externalId: String? = nil,
    active: Bool? = nil
) -> JSONValue {
    var o = JSONObject()
    o["schemas"] = ["urn:ietf:params:scim:schemas:core:2.0:User"]
    o["userName"] = .string(userName)
    if let externalId { o["externalId"] = .string(externalId) }
    o["displayName"] = .string(displayName)
    if let active { o["active"] = .bool(active) }
    o["emails"] = [["type": "work", "value": .string(email ?? "\(userName)@example.org"), "primary": true]]
    return .object(o)
}

/// A PatchOp body.
func patchBody(_ operations: JSONValue...) -> JSONValue {
    ["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": .array(operations)]
}

/// Asserts a SCIM error body with this status and scimType.
func assertSCIMError(
    _ reply: Reply, _ status: Int, _ scimType: String?, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(reply.status, status, reply.text, file: file, line: line)
    XCTAssertEqual(reply.contentType, "application/scim+json", file: file, line: line)
    XCTAssertEqual(
        reply.json?["schemas"], ["urn:ietf:params:scim:api:messages:2.0:Error"], reply.text, file: file, line: line)
    XCTAssertEqual(reply.json?["status"]?.stringValue, String(status), file: file, line: line)
    XCTAssertEqual(reply.scimType, scimType, reply.text, file: file, line: line)
    if scimType == nil {
        XCTAssertNil(reply.json?.objectValue?.index(of: "scimType"), "scimType must be omitted", file: file, line: line)
    }
    XCTAssertFalse(reply.detail?.isEmpty ?? true, "detail must be present", file: file, line: line)
}

/// Asserts a status (a function, so an `await` may appear in its argument, unlike XCTest's autoclosures).
func assertStatus(
    _ reply: Reply, _ status: Int, _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(reply.status, status, "\(message) \(reply.text)", file: file, line: line)
}
