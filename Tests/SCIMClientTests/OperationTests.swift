import SCIMClient
import SCIMCore
import SCIMSandbox
import XCTest

/// The five operations against the sandbox over loopback HTTP.
final class OperationTests: XCTestCase {
    func testCreateReturnsTheStoredUserWith201() async throws {
        try await withSandbox { server, client in
            let before = server.sandbox.userCount
            let created = try await client.createUser(
                newUser("new.person", displayName: "New Person", externalId: "EXT-NEW-1"))
            let id = try XCTUnwrap(created.id)
            XCTAssertFalse(id.isEmpty)
            XCTAssertEqual(created.userName, "new.person")
            XCTAssertEqual(created.displayName, "New Person")
            XCTAssertEqual(created.externalId, "EXT-NEW-1")
            XCTAssertEqual(created.active, true)
            XCTAssertEqual(created.email, "new.person@example.net")
            XCTAssertEqual(created.attributes["schemas"], [.string(SCIMSchema.user)])
            XCTAssertEqual(created.attributes["meta"]?["resourceType"], "User")
            XCTAssertNotNil(created.attributes["meta"]?["created"]?.stringValue)
            XCTAssertEqual(server.sandbox.userCount, before + 1)
            XCTAssertEqual(server.sandbox.user(id: id)?["userName"], "new.person")
            XCTAssertEqual(server.requestLog().last?.status, 201)
            XCTAssertEqual(server.requestLog().last?.method, "POST")
        }
    }

    func testGetReturnsTheSeedUser() async throws {
        try await withSandbox { _, client in
            let user = try await client.getUser(id: Seed.bjensen)
            XCTAssertEqual(user.id, Seed.bjensen)
            XCTAssertEqual(user.userName, "bjensen")
            XCTAssertEqual(user.displayName, "Barbara Jensen")
            XCTAssertEqual(user.externalId, "701984")
            XCTAssertEqual(user.email, "bjensen@example.com")
            XCTAssertEqual(user.active, true)
        }
    }

    func testFindByUserNameReturnsAListResponse() async throws {
        try await withSandbox { _, client in
            let page = try await client.findUsers(filter: #"userName eq "bjensen""#)
            XCTAssertEqual(page.totalResults, 1)
            XCTAssertEqual(page.startIndex, 1)
            XCTAssertEqual(page.itemsPerPage, 1)
            XCTAssertEqual(page.resources.map(\.id), [Seed.bjensen])

            let none = try await client.findUsers(filter: #"userName eq "nobody-here""#)
            XCTAssertEqual(none.totalResults, 0)
            XCTAssertEqual(none.resources, [])
        }
    }

    func testFindWithoutFilterReturnsActiveUsersOnly() async throws {
        try await withSandbox { server, client in
            let page = try await client.findUsers()
            let active = server.users().filter { $0["active"] == true }
            XCTAssertEqual(page.totalResults, active.count)
            XCTAssertEqual(page.resources.map(\.id), active.map { $0["id"]?.stringValue })
            XCTAssertTrue(page.resources.allSatisfy { $0.active == true })
            XCTAssertFalse(page.resources.contains { $0.id == Seed.okoval })
        }
    }

    func testDeleteDeactivatesAndTheUserDisappearsFromGetAndFind() async throws {
        try await withSandbox { server, client in
            let created = try await client.createUser(newUser("leaver"))
            let id = try XCTUnwrap(created.id)
            try await client.deleteUser(id: id)
            XCTAssertEqual(server.requestLog().last?.status, 204)
            // ODM keeps the account, inactive.
            XCTAssertEqual(server.sandbox.user(id: id)?["active"], false)

            let getError = try await expectError { try await client.getUser(id: id) }
            XCTAssertEqual(getError.status, 404)
            let page = try await client.findUsers(filter: #"userName eq "leaver""#)
            XCTAssertEqual(page.totalResults, 0)

            // A second delete finds no active user.
            let again = try await expectError { try await client.deleteUser(id: id) }
            XCTAssertEqual(again.status, 404)
            XCTAssertEqual(again.method, "DELETE")
        }
    }

    func testUpsertUpdatesTheUserWithTheSameUserName() async throws {
        try await withSandbox { server, client in
            let count = server.sandbox.userCount
            let first = try await client.createUser(newUser("upsert.me", displayName: "First Name"))
            server.clearLog()
            let second = try await client.createUser(newUser("upsert.me", displayName: "Second Name"))
            XCTAssertEqual(second.id, first.id)
            XCTAssertEqual(second.displayName, "Second Name")
            XCTAssertEqual(statuses(server), [201])
            XCTAssertEqual(server.sandbox.userCount, count + 1)
            let fetched = try await client.getUser(id: try XCTUnwrap(first.id))
            XCTAssertEqual(fetched.displayName, "Second Name")
            // userName is matched case-insensitively.
            let third = try await client.createUser(newUser("UPSERT.ME", displayName: "Third Name"))
            XCTAssertEqual(third.id, first.id)
            XCTAssertEqual(server.sandbox.userCount, count + 1)
        }
    }

    func testPatchPathForm() async throws {
        try await withSandbox { _, client in
            let patched = try await client.patchUser(
                id: Seed.alice,
                operations: [
                    PatchOperation(op: .replace, path: "displayName", value: "Alice M. Martin"),
                    PatchOperation(op: .replace, path: "externalId", value: "EMP-2002"),
                ])
            XCTAssertEqual(patched.displayName, "Alice M. Martin")
            XCTAssertEqual(patched.externalId, "EMP-2002")
            let fetched = try await client.getUser(id: Seed.alice)
            XCTAssertEqual(fetched.displayName, "Alice M. Martin")
            XCTAssertEqual(fetched.externalId, "EMP-2002")
            XCTAssertEqual(fetched.userName, "alice.martin")
        }
    }

    func testPatchPathlessValueObjectForm() async throws {
        try await withSandbox { server, client in
            let patched = try await client.patchUser(
                id: Seed.alice,
                operations: [PatchOperation(op: .replace, path: nil, value: ["active": false, "displayName": "B"])])
            XCTAssertEqual(patched.active, false)
            XCTAssertEqual(patched.displayName, "B")
            XCTAssertEqual(server.sandbox.user(id: Seed.alice)?["active"], false)
            XCTAssertEqual(server.sandbox.user(id: Seed.alice)?["displayName"], "B")
            // Deactivated: get is 404, but PATCH still reaches the user and can reactivate it.
            let error = try await expectError { try await client.getUser(id: Seed.alice) }
            XCTAssertEqual(error.status, 404)
            let back = try await client.patchUser(
                id: Seed.alice, operations: [PatchOperation(op: .replace, path: "active", value: true)])
            XCTAssertEqual(back.active, true)
            let fetched = try await client.getUser(id: Seed.alice)
            XCTAssertEqual(fetched.displayName, "B")
        }
    }

    func testPatchReachesASeedDeactivatedUser() async throws {
        try await withSandbox { _, client in
            let patched = try await client.patchUser(
                id: Seed.okoval, operations: [PatchOperation(op: .replace, path: "displayName", value: "O. Koval")])
            XCTAssertEqual(patched.displayName, "O. Koval")
            XCTAssertEqual(patched.active, false)
        }
    }

    func testPatchIsAtomic() async throws {
        try await withSandbox { server, client in
            let before = try await client.getUser(id: Seed.alice)
            server.clearLog()
            let mutability = try await expectError {
                try await client.patchUser(
                    id: Seed.alice,
                    operations: [
                        PatchOperation(op: .replace, path: "displayName", value: "Should Not Stick"),
                        PatchOperation(op: .replace, path: "id", value: "hijacked"),
                    ])
            }
            XCTAssertEqual(mutability.status, 400)
            XCTAssertEqual(mutability.scimType, "mutability")

            let invalid = try await expectError {
                try await client.patchUser(
                    id: Seed.alice,
                    operations: [
                        PatchOperation(op: .replace, path: nil, value: ["displayName": "Nope", "externalId": "X-9"]),
                        PatchOperation(op: .replace, path: "active", value: "not-a-boolean"),
                    ])
            }
            XCTAssertEqual(invalid.status, 400)
            XCTAssertEqual(invalid.scimType, "invalidValue")

            let after = try await client.getUser(id: Seed.alice)
            XCTAssertEqual(after, before)
            XCTAssertEqual(server.requestLog().filter(\.changedStore), [])
        }
    }

    func testPatchOfOnlyUnknownAttributesIsAccepted() async throws {
        try await withSandbox { _, client in
            let before = try await client.getUser(id: Seed.bjensen)
            let patched = try await client.patchUser(
                id: Seed.bjensen, operations: [PatchOperation(op: .replace, path: "name.familyName", value: "Jensen")])
            XCTAssertEqual(patched.displayName, before.displayName)
            let fetched1 = try await client.getUser(id: Seed.bjensen)
            XCTAssertEqual(fetched1, before)
        }
    }

    func testBothAuthHeadersAreAccepted() async throws {
        try await withSandbox(auth: .apiToken(Tokens.admin)) { server, apiTokenClient in
            let viaAPIToken = try await apiTokenClient.getUser(id: Seed.bjensen)
            XCTAssertEqual(viaAPIToken.userName, "bjensen")
            let headerNames = apiTokenClient.request("GET", path: "/Users").headers.map(\.name)
            XCTAssertTrue(headerNames.contains("Genestack-API-Token"))
            XCTAssertFalse(headerNames.contains("Authorization"))

            var config = apiTokenClient.configuration
            config.auth = .bearer(Tokens.admin)
            // Shares the first client's connection pool, so nothing more to shut down.
            let bearer = apiTokenClient.with(configuration: config, observer: nil)
            let viaBearer = try await bearer.findUsers(filter: #"userName eq "bjensen""#)
            XCTAssertEqual(viaBearer.resources.first?.id, Seed.bjensen)
            XCTAssertEqual(
                bearer.request("GET", path: "/Users").headers.first { $0.name == "Authorization" }?.value,
                "Bearer \(Tokens.admin)")
            XCTAssertEqual(statuses(server), [200, 200])
        }
    }

    func testCreateSendsSCIMJSONAndTheUserAgent() async throws {
        try await withSandbox { _, client in
            let r = client.request("POST", path: "/Users", body: newUser("x").json)
            let headers = Dictionary(r.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(headers["Content-Type"], "application/scim+json")
            XCTAssertEqual(headers["User-Agent"], "scimsh/\(SCIMClientVersion.current)")
            XCTAssertEqual(headers["Accept"], "application/scim+json, application/json")
            let get = client.request("GET", path: "/Users")
            XCTAssertNil(get.body)
            XCTAssertFalse(get.headers.contains { $0.name == "Content-Type" })
        }
    }
}

/// A PATCH answered `204 No Content` (RFC 7644 §3.5.2) is a success; the user after it comes from a GET.
final class NoContentPatchTests: XCTestCase {
    func testA204PatchReadsTheUserBack() async throws {
        let user =
            #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-1","userName":"b","nickName":"T"}"#
        let transport = StubTransport { r in
            r.method == "PATCH"
                ? HTTPResponseData(status: 204, headers: [], body: [])
                : HTTPResponseData(
                    status: 200, headers: [("Content-Type", "application/scim+json")], body: Array(user.utf8))
        }
        let client = SCIMClient(configuration: SCIMConfiguration(host: "http://127.0.0.1:1"), transport: transport)
        let after = try await client.patchUser(
            id: "u-1", operations: [PatchOperation(op: .add, path: "nickName", value: .string("T"))])
        XCTAssertEqual(after.attributes["nickName"]?.stringValue, "T")
        XCTAssertEqual(transport.requests.map(\.method), ["PATCH", "GET"])

        // The GET fails (a server that hides the user now): still a success, with the id alone.
        let hiding = StubTransport { r in
            HTTPResponseData(status: r.method == "PATCH" ? 204 : 404, headers: [], body: [])
        }
        let c2 = SCIMClient(configuration: SCIMConfiguration(host: "http://127.0.0.1:1"), transport: hiding)
        let known = try await c2.patchUser(
            id: "u-2", operations: [PatchOperation(op: .replace, path: "active", value: .bool(false))])
        XCTAssertEqual(known.id, "u-2")
    }
}
