import HTTPTypes
import HummingbirdTesting
import NIOCore
import SCIMCore
import SCIMSandbox
import XCTest

final class CreateTests: XCTestCase {
    func testCreateReturns201WithServerAssignedIdAndMeta() async throws {
        try await withSandbox { sandbox, client in
            var body = userBody("new.person", displayName: "New Person", externalId: "X-1").objectValue ?? JSONObject()
            body["nickName"] = "unknown attribute"
            body["id"] = "client-chosen"
            let r = try await client.send(.post, "/Users", json: .object(body))
            XCTAssertEqual(r.status, 201, r.text)
            let user = try XCTUnwrap(r.json)
            let id = try XCTUnwrap(user["id"]?.stringValue)
            XCTAssertNotEqual(id, "client-chosen")
            XCTAssertEqual(id.count, 36)
            XCTAssertEqual(user["schemas"], ["urn:ietf:params:scim:schemas:core:2.0:User"])
            XCTAssertEqual(user["userName"], "new.person")
            XCTAssertEqual(user["externalId"], "X-1")
            XCTAssertEqual(user["active"], true, "active defaults to true")
            XCTAssertEqual(user["emails"], [["type": "work", "value": "new.person@example.org", "primary": true]])
            XCTAssertNil(user["nickName"], "unknown attributes are not stored")
            XCTAssertEqual(user["meta"]?["resourceType"], "User")
            let created = try XCTUnwrap(user["meta"]?["created"]?.stringValue)
            XCTAssertTrue(created.hasSuffix("Z") && created.count == 24, created)
            XCTAssertEqual(user["meta"]?["lastModified"]?.stringValue, created)
            XCTAssertEqual(r.headers[.location], user["meta"]?["location"]?.stringValue)
            XCTAssertEqual(sandbox.user(id: id)?["userName"], "new.person")
            let get = try await client.send(.get, "/Users/\(id)")
            XCTAssertEqual(get.json, r.json)
        }
    }

    func testCreateIsAnUpsertOnUserNameCaseInsensitively() async throws {
        try await withSandbox { sandbox, client in
            let before = sandbox.users().count
            let r = try await client.send(
                .post, "/Users", json: userBody("BJensen", displayName: "Babs Jensen", email: "babs@example.com"))
            XCTAssertEqual(r.status, 201)
            XCTAssertEqual(r.json?["id"]?.stringValue, bjensenId)
            XCTAssertEqual(r.json?["displayName"], "Babs Jensen")
            XCTAssertEqual(r.json?["userName"], "BJensen")
            XCTAssertEqual(r.json?["externalId"], "701984", "externalId kept when the body has none")
            XCTAssertEqual(r.json?["meta"]?["created"], "2010-01-23T04:56:22.000Z")
            XCTAssertNotEqual(r.json?["meta"]?["lastModified"], "2011-05-13T04:42:34.000Z")
            XCTAssertEqual(sandbox.users().count, before)
        }
    }

    func testUpsertReactivatesADeactivatedUser() async throws {
        try await withSandbox { _, client in
            let r = try await client.send(.post, "/Users", json: userBody("okoval", displayName: "Olena Koval"))
            XCTAssertEqual(r.status, 201)
            XCTAssertEqual(r.json?["id"]?.stringValue, okovalId)
            XCTAssertEqual(r.json?["active"], true)
        }
    }

    func testExternalIdOfAnotherUserIs409() async throws {
        try await withSandbox { sandbox, client in
            let r = try await client.send(.post, "/Users", json: userBody("someone", externalId: "701984"))
            assertSCIMError(r, 409, "uniqueness")
            XCTAssertFalse(sandbox.users().contains { $0["userName"] == "someone" })
        }
    }

    func testMissingRequiredAttributesAre400() async throws {
        try await withSandbox { _, client in
            for name in ["userName", "displayName", "emails"] {
                var o = userBody("req").objectValue ?? JSONObject()
                o[name] = nil
                assertSCIMError(try await client.send(.post, "/Users", json: .object(o)), 400, "invalidValue")
            }
            var empty = userBody("req").objectValue ?? JSONObject()
            empty["emails"] = []
            assertSCIMError(try await client.send(.post, "/Users", json: .object(empty)), 400, "invalidValue")
        }
    }

    func testMoreThanOneEmailIs400() async throws {
        try await withSandbox { _, client in
            var o = userBody("two").objectValue ?? JSONObject()
            o["emails"] = [["type": "work", "value": "a@x.org"], ["type": "work", "value": "b@x.org"]]
            let r = try await client.send(.post, "/Users", json: .object(o))
            assertSCIMError(r, 400, "invalidValue")
            XCTAssertTrue(r.detail?.contains("one email") ?? false, r.text)
        }
    }

    func testWrongTypesAre400() async throws {
        try await withSandbox { _, client in
            let cases: [(String, JSONValue)] = [
                ("userName", 5), ("displayName", true), ("active", "yes"), ("emails", "a@b.org"), ("externalId", 7),
                ("emails", [["value": "not an email"]]), ("emails", [["value": "a@b.org", "primary": "yes"]]),
            ]
            for (name, value) in cases {
                var o = userBody("typed").objectValue ?? JSONObject()
                o[name] = value
                assertSCIMError(try await client.send(.post, "/Users", json: .object(o)), 400, "invalidValue")
            }
        }
    }

    func testWrongSchemasIs400() async throws {
        try await withSandbox { _, client in
            var o = userBody("s").objectValue ?? JSONObject()
            o["schemas"] = ["urn:ietf:params:scim:schemas:core:2.0:Group"]
            assertSCIMError(try await client.send(.post, "/Users", json: .object(o)), 400, "invalidSyntax")
        }
    }

    func testMalformedBodiesAre400NotServerErrors() async throws {
        try await withSandbox { sandbox, client in
            let bodies = ["", "{", "{\"userName\":", "[]", "null", "\"text\"", "{\"a\":1}}", "{'a':1}", "\u{1}"]
            for raw in bodies {
                let r = try await client.send(.post, "/Users", raw: raw)
                XCTAssertEqual(r.status, 400, "body \(raw.debugDescription): \(r.text)")
                XCTAssertEqual(r.json?["schemas"], ["urn:ietf:params:scim:api:messages:2.0:Error"])
                let p = try await client.send(.patch, "/Users/\(bjensenId)", raw: raw)
                XCTAssertEqual(p.status, 400, "patch body \(raw.debugDescription): \(p.text)")
            }
            let deep = String(repeating: "[", count: 100_000)
            assertStatus(try await client.send(.post, "/Users", raw: deep), 400)
            XCTAssertFalse(sandbox.requestLog().contains { $0.status >= 500 })
        }
    }

    func testContentTypes() async throws {
        try await withSandbox { _, client in
            let json = try await client.send(.post, "/Users", json: userBody("ct1"), contentType: "application/json")
            XCTAssertEqual(json.status, 201)
            let charset = try await client.send(
                .post, "/Users", json: userBody("ct2"), contentType: "application/scim+json; charset=utf-8")
            XCTAssertEqual(charset.status, 201)
            let form = try await client.send(
                .post, "/Users", json: userBody("ct3"), contentType: "application/x-www-form-urlencoded")
            assertSCIMError(form, 415, nil)
        }
    }

    func testHugeBodyIs413() async throws {
        try await withSandbox(SandboxConfiguration(maxBodySize: 1024)) { _, client in
            var o = userBody("big").objectValue ?? JSONObject()
            o["padding"] = .string(String(repeating: "x", count: 2048))
            assertSCIMError(try await client.send(.post, "/Users", json: .object(o)), 413, nil)
        }
    }

    func testCreatedIdsAreDeterministicForASeed() async throws {
        func createdId() async throws -> String? {
            let box = IdBox()
            try await withSandbox { _, client in
                let r = try await client.send(.post, "/Users", json: userBody("det"))
                box.id = r.json?["id"]?.stringValue
            }
            return box.id
        }
        let a = try await createdId()
        let b = try await createdId()
        XCTAssertNotNil(a)
        XCTAssertEqual(a, b)
    }
}

final class IdBox: @unchecked Sendable {
    var id: String?
}
