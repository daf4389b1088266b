import HTTPTypes
import HummingbirdTesting
import NIOCore
import SCIMCore
import SCIMSandbox
import XCTest

final class PatchTests: XCTestCase {
    func testReplaceWithPath() async throws {
        try await withSandbox { sandbox, client in
            let r = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(
                    ["op": "replace", "path": "displayName", "value": "Babs"],
                    ["op": "Replace", "path": "active", "value": false]))
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertEqual(r.json?["displayName"], "Babs")
            XCTAssertEqual(r.json?["active"], false)
            XCTAssertEqual(sandbox.user(id: bjensenId)?["active"], false)
            XCTAssertEqual(sandbox.requestLog().last?.changedStore, true)
        }
    }

    func testPathlessReplace() async throws {
        try await withSandbox { _, client in
            let r = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(["op": "replace", "value": ["active": false, "displayName": "B", "externalId": "E9"]]))
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertEqual(r.json?["active"], false)
            XCTAssertEqual(r.json?["displayName"], "B")
            XCTAssertEqual(r.json?["externalId"], "E9")
        }
    }

    func testPatchWorksOnDeactivatedUsersAndCanReactivate() async throws {
        try await withSandbox { _, client in
            let r = try await client.send(
                .patch, "/Users/\(okovalId)", json: patchBody(["op": "ADD", "path": "active", "value": true]))
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertEqual(r.json?["active"], true)
            assertStatus(try await client.send(.get, "/Users/\(okovalId)"), 200)
        }
    }

    func testSchemaQualifiedPathsAndUserName() async throws {
        try await withSandbox { _, client in
            let r = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody([
                    "op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:userName", "value": "barbara",
                ]))
            XCTAssertEqual(r.json?["userName"], "barbara")
            let found = try await client.send(.get, "/Users?filter=userName%20eq%20%22BARBARA%22")
            XCTAssertEqual(found.json?["totalResults"], 1, "the userName index follows the change")
            let old = try await client.send(.get, "/Users?filter=userName%20eq%20%22bjensen%22")
            XCTAssertEqual(old.json?["totalResults"], 0)
        }
    }

    func testEmailEdits() async throws {
        try await withSandbox { _, client in
            let byFilter = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(["op": "replace", "path": #"emails[type eq "work"].value"#, "value": "b@new.org"]))
            XCTAssertEqual(byFilter.status, 200, byFilter.text)
            XCTAssertEqual(byFilter.json?["emails"], [["type": "work", "value": "b@new.org", "primary": true]])
            let whole = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(["op": "replace", "path": "emails", "value": [["type": "work", "value": "c@new.org"]]]))
            XCTAssertEqual(whole.json?["emails"]?.arrayValue?.first?["value"], "c@new.org")
            let second = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(["op": "add", "path": "emails", "value": [["type": "home", "value": "d@new.org"]]]))
            assertSCIMError(second, 400, "invalidValue")
            let noMatch = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(["op": "replace", "path": #"emails[type eq "home"].value"#, "value": "e@new.org"]))
            assertSCIMError(noMatch, 400, "noTarget")
            let remove = try await client.send(
                .patch, "/Users/\(bjensenId)", json: patchBody(["op": "remove", "path": "emails"]))
            assertSCIMError(remove, 400, "invalidValue")
        }
    }

    func testIdAndMetaAreReadOnly() async throws {
        try await withSandbox { sandbox, client in
            let bodies: [JSONValue] = [
                patchBody(["op": "replace", "path": "id", "value": "other"]),
                patchBody(["op": "replace", "path": "meta.created", "value": "2000-01-01T00:00:00Z"]),
                patchBody(["op": "replace", "value": ["id": "other"]]),
                patchBody(["op": "remove", "path": "meta"]),
            ]
            for body in bodies {
                assertSCIMError(try await client.send(.patch, "/Users/\(bjensenId)", json: body), 400, "mutability")
            }
            XCTAssertNotNil(sandbox.user(id: bjensenId))
            let sameId = try await client.send(
                .patch, "/Users/\(bjensenId)", json: patchBody(["op": "replace", "value": ["id": .string(bjensenId)]]))
            XCTAssertEqual(sameId.status, 200, "sending the unchanged id is not an edit")
        }
    }

    func testUnknownAttributesAreIgnored() async throws {
        try await withSandbox { sandbox, client in
            let before = sandbox.user(id: bjensenId)
            let r = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(
                    ["op": "replace", "path": "name.familyName", "value": "Jensen"],
                    ["op": "add", "value": ["nickName": "Babs", "name": ["givenName": "B"]]],
                    [
                        "op": "replace",
                        "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D",
                    ]))
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertNil(r.json?["nickName"])
            XCTAssertNil(r.json?["name"])
            XCTAssertEqual(sandbox.user(id: bjensenId), before, "nothing changed, not even lastModified")
            XCTAssertEqual(sandbox.requestLog().last?.changedStore, false)
        }
    }

    func testWrongTypesAreInvalidValue() async throws {
        try await withSandbox { _, client in
            let ops: [JSONValue] = [
                ["op": "replace", "path": "active", "value": "yes"],
                ["op": "replace", "path": "displayName", "value": 5],
                ["op": "replace", "value": ["userName": ["a"]]],
                ["op": "replace", "path": "userName", "value": ""],
                ["op": "replace", "path": "displayName"],
            ]
            for op in ops {
                assertSCIMError(
                    try await client.send(.patch, "/Users/\(bjensenId)", json: patchBody(op)), 400, "invalidValue")
            }
        }
    }

    func testRemovingRequiredAttributesIs400ButExternalIdMayGo() async throws {
        try await withSandbox { _, client in
            for path in ["displayName", "userName", "active"] {
                let r = try await client.send(
                    .patch, "/Users/\(bjensenId)", json: patchBody(["op": "remove", "path": .string(path)]))
                assertSCIMError(r, 400, "invalidValue")
            }
            let r = try await client.send(
                .patch, "/Users/\(bjensenId)", json: patchBody(["op": "remove", "path": "externalId"]))
            XCTAssertEqual(r.status, 200)
            XCTAssertNil(r.json?["externalId"])
        }
    }

    func testPatchIsAtomic() async throws {
        try await withSandbox { sandbox, client in
            let before = sandbox.user(id: bjensenId)
            let r = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(
                    ["op": "replace", "path": "displayName", "value": "Changed"],
                    ["op": "replace", "path": "active", "value": false],
                    ["op": "replace", "path": "active", "value": "not a bool"]))
            assertSCIMError(r, 400, "invalidValue")
            XCTAssertEqual(sandbox.user(id: bjensenId), before, "the first two operations were not applied")
            XCTAssertEqual(sandbox.requestLog().last?.changedStore, false)
        }
    }

    func testLastModifiedAdvancesOnChange() async throws {
        try await withSandbox { _, client in
            let first = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(["op": "replace", "path": "displayName", "value": "One"]))
            let second = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(["op": "replace", "path": "displayName", "value": "Two"]))
            let t1 = try XCTUnwrap(first.json?["meta"]?["lastModified"]?.stringValue)
            let t2 = try XCTUnwrap(second.json?["meta"]?["lastModified"]?.stringValue)
            XCTAssertLessThan("2011-05-13T04:42:34.000Z", t1)
            XCTAssertLessThan(t1, t2, "strictly later, even within one millisecond")
            XCTAssertEqual(second.json?["meta"]?["created"], "2010-01-23T04:56:22.000Z")
        }
    }

    func testUniquenessConflictsAre409() async throws {
        try await withSandbox { _, client in
            let name = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(["op": "replace", "path": "userName", "value": "RKumar"]))
            assertSCIMError(name, 409, "uniqueness")
            let external = try await client.send(
                .patch, "/Users/\(bjensenId)",
                json: patchBody(["op": "replace", "path": "externalId", "value": "EMP-1002"]))
            assertSCIMError(external, 409, "uniqueness")
        }
    }

    func testMalformedPatchBodies() async throws {
        try await withSandbox { _, client in
            let cases: [(JSONValue, String)] = [
                (["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]], "invalidSyntax"),
                (["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []], "invalidSyntax"),
                (["schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": "x"], "invalidSyntax"),
                (
                    ["schemas": ["urn:x"], "Operations": [["op": "replace", "path": "active", "value": true]]],
                    "invalidSyntax"
                ),
                (patchBody(["op": "merge", "path": "active", "value": true]), "invalidSyntax"),
                (patchBody(["path": "active", "value": true]), "invalidSyntax"),
                (patchBody(["op": "remove"]), "noTarget"),
                (patchBody(["op": "replace", "value": false]), "invalidValue"),
                (patchBody(["op": "replace", "path": 5, "value": false]), "invalidPath"),
                (patchBody(["op": "replace", "path": "", "value": false]), "invalidPath"),
                (patchBody(["op": "replace", "path": "emails[type eq", "value": false]), "invalidPath"),
                (patchBody(["op": "replace", "path": "active.x", "value": false]), "invalidPath"),
                (patchBody(["op": "replace", "path": "a b", "value": false]), "invalidPath"),
                (patchBody("not an object"), "invalidSyntax"),
            ]
            for (body, scimType) in cases {
                let r = try await client.send(.patch, "/Users/\(bjensenId)", json: body)
                assertSCIMError(r, 400, scimType)
            }
        }
    }

    func testPatchUnknownIdIs404() async throws {
        try await withSandbox { _, client in
            let r = try await client.send(
                .patch, "/Users/nope", json: patchBody(["op": "replace", "path": "active", "value": false]))
            assertSCIMError(r, 404, nil)
        }
    }

    func testOperationsKeyIsCaseInsensitive() async throws {
        try await withSandbox { _, client in
            let body: JSONValue = [
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "operations": [["op": "replace", "path": "displayName", "value": "lower"]],
            ]
            let r = try await client.send(.patch, "/Users/\(bjensenId)", json: body)
            XCTAssertEqual(r.json?["displayName"], "lower")
        }
    }
}
