import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SCIMCore
import SCIMSandbox
import XCTest

/// Where ODM is stricter than the RFC, the sandbox must be too, or scripts that pass here fail on ODM.
final class FidelityTests: XCTestCase {
    /// ODM accepts only work addresses: any other `emails.type` is a 400, on create and on patch.
    func testEmailTypeOtherThanWorkIs400() async throws {
        try await withSandbox { sandbox, client in
            let before = sandbox.users().count
            var body = userBody("home.person", displayName: "Home").objectValue ?? JSONObject()
            body["emails"] = [["type": "home", "value": "home.person@example.org"]]
            let r = try await client.send(.post, "/Users", json: .object(body))
            XCTAssertEqual(r.status, 400, r.text)
            XCTAssertTrue(r.text.contains("work"), r.text)
            XCTAssertEqual(sandbox.users().count, before)

            let patch: JSONValue = [
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [["op": "replace", "value": ["emails": [["type": "Home", "value": "b@example.org"]]]]],
            ]
            let p = try await client.send(.patch, "/Users/2819c223-7f76-453a-919d-413861904646", json: patch)
            XCTAssertEqual(p.status, 400, p.text)

            body["emails"] = [["type": "work", "value": "home.person@example.org"]]
            let ok = try await client.send(.post, "/Users", json: .object(body))
            XCTAssertEqual(ok.status, 201, ok.text)
        }
    }

    /// ODM reads the `filter` query parameter by its exact name: `FILTER=` is ignored (every user is listed).
    func testFilterParameterNameIsCaseSensitive() async throws {
        try await withSandbox { _, client in
            let filter = #"userName eq "bjensen""#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let exact = try await client.send(.get, "/Users?filter=\(filter)")
            XCTAssertEqual(exact.json?["totalResults"], 1, exact.text)
            let upper = try await client.send(.get, "/Users?FILTER=\(filter)")
            XCTAssertEqual(upper.status, 200, upper.text)
            XCTAssertEqual(upper.json?["totalResults"], 6, "FILTER= must be ignored, as ODM does: \(upper.text)")
        }
    }
}
