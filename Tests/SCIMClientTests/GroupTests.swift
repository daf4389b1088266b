import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// The Groups operations against the sandbox (ODM's Groups API), and against stubs for what it cannot produce.
final class GroupTests: XCTestCase {
    static let engineering = "4f1c2a3b-8d7e-4a6f-9b2c-1e0d3f5a7b11"
    static let rkumar = "7e2f9a14-6c3d-4b8e-a1f0-3c5d7e9b2a02"

    func testCreateFindGetPatchDelete() async throws {
        let observer = RecordingObserver()
        try await withSandbox { server, plain in
            let client = plain.with(observer: observer)
            let created = try await client.createGroup(SCIMGroup(displayName: "Release Managers", externalId: "RM"))
            let id = try XCTUnwrap(created.id)
            XCTAssertEqual(created.displayName, "Release Managers")
            XCTAssertEqual(created.externalId, "RM")
            XCTAssertEqual(created.members?.map(\.value), [Seed.alice], "the creator is its group admin")
            XCTAssertEqual(created.members?.first?.display, "Alice Martin")
            XCTAssertEqual(created.members?.first?.ref, server.baseURL + "/Users/" + Seed.alice)

            let page = try await client.findGroups(filter: #"displayName eq "Release Managers""#)
            XCTAssertEqual(page.totalResults, 1)
            XCTAssertEqual(page.resources.map(\.id), [id])

            let patched = try await client.patchGroup(
                id: id,
                operations: [
                    PatchOperation(op: .add, path: "members", value: [["value": .string(Seed.bjensen)]]),
                    PatchOperation(op: .replace, path: "displayName", value: "Release Team"),
                ])
            XCTAssertEqual(patched.displayName, "Release Team", "204 is read back with a GET")
            XCTAssertEqual(patched.members?.map(\.value), [Seed.alice, Seed.bjensen])

            let removed = try await client.patchGroup(
                id: id,
                operations: [PatchOperation(op: .remove, path: #"members[value eq "\#(Seed.bjensen)"]"#, value: nil)])
            XCTAssertEqual(removed.members?.map(\.value), [Seed.alice])

            let lean = try await client.getGroup(id: id, excludeMembers: true)
            XCTAssertEqual(lean.displayName, "Release Team")
            XCTAssertNil(lean.members)

            try await client.deleteGroup(id: id)
            let gone = try await self.expectError { try await client.getGroup(id: id) }
            XCTAssertEqual(gone.status, 404)
            XCTAssertEqual(server.users().first { $0["id"]?.stringValue == Seed.bjensen }?["active"], true)
            XCTAssertEqual(
                server.requestLog().map { "\($0.method) \($0.status)" },
                [
                    "POST 201", "GET 200", "PATCH 204", "GET 200", "PATCH 204", "GET 200", "GET 200", "DELETE 204",
                    "GET 404",
                ])
        }
        XCTAssertEqual(observer.statuses, [201, 200, 204, 200, 204, 200, 200, 204, 404], "every exchange is observed")
        XCTAssertTrue(observer.sent.contains { $0.url.hasSuffix("excludedAttributes=members") })
    }

    func testFindAllGroupsPagesAndExcludesMembers() async throws {
        try await withSandbox { server, client in
            for i in 1...4 { _ = try await client.createGroup(SCIMGroup(displayName: "Team \(i)")) }
            var names: [String] = []
            for try await group in client.findAllGroups(pageSize: 2, excludeMembers: true) {
                names.append(group.displayName ?? "")
                XCTAssertNil(group.members)
            }
            XCTAssertEqual(names, ["Engineering", "Data Stewards", "Curators", "Team 1", "Team 2", "Team 3", "Team 4"])
            let gets = server.requestLog().filter { $0.method == "GET" }.map(\.uri)
            XCTAssertEqual(gets.count, 4)
            XCTAssertEqual(gets.first, "/api/v1/scim/Groups?startIndex=1&count=2&excludedAttributes=members")
        }
    }

    func testAPlainUserSeesItsGroupsAndGetsODMsErrors() async throws {
        try await withSandbox(auth: .apiToken("scimsh-sandbox-rkumar")) {
            _, client in
            var names: [String] = []
            for try await group in client.findAllGroups() { names.append(group.displayName ?? "") }
            XCTAssertEqual(names, ["Engineering", "Data Stewards"])
            let stewards = "6a3e4c5d-0f9a-4c8b-8d4e-3a2f5b7c9d22"
            let forbidden = try await self.expectError {
                try await client.patchGroup(
                    id: stewards, operations: [PatchOperation(op: .replace, path: "displayName", value: "x")])
            }
            XCTAssertEqual(forbidden.status, 403)
            XCTAssertTrue(forbidden.detail.contains("group admin"), forbidden.detail)
            let filter = try await self.expectError { try await client.findGroups(filter: #"displayName co "Eng""#) }
            XCTAssertEqual(filter.status, 400)
            XCTAssertEqual(filter.scimType, "invalidFilter")
            let members = try await self.expectError {
                try await client.createGroup(SCIMGroup(displayName: "x", members: [.init(value: Seed.bjensen)]))
            }
            XCTAssertEqual(members.status, 400)
            // rkumar, its group admin, leaves Engineering: the read-back GET is 404 now, so the result holds the id.
            let left = try await client.patchGroup(
                id: Self.engineering,
                operations: [PatchOperation(op: .remove, path: #"members[value eq "\#(Self.rkumar)"]"#, value: nil)])
            XCTAssertEqual(left.attributes, JSONObject([("id", .string(Self.engineering))]))
        }
    }

    func testRetriesA503OnGetAndErrorsNameTheGroupsURL() async throws {
        try await withSandbox { server, client in
            server.sandbox.failNext(.serviceUnavailable)
            let group = try await client.getGroup(id: Self.engineering)
            XCTAssertEqual(group.displayName, "Engineering")
            XCTAssertEqual(self.statuses(server), [503, 200])
            let empty = try await self.expectError { try await client.deleteGroup(id: "") }
            XCTAssertEqual(empty.detail, "empty group id")
            let missing = try await self.expectError { try await client.deleteGroup(id: "no such") }
            XCTAssertEqual(missing.status, 404)
            XCTAssertEqual(missing.url, server.baseURL + "/Groups/no%20such")
        }
    }

    func testAPageThatRepeatsGroupsEndsTheStream() async throws {
        let stub = StubTransport { _ in
            let body =
                #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":9,"startIndex":1,"#
                + #""Resources":[{"id":"g1","displayName":"A"},{"id":"g2","displayName":"B"}]}"#
            return HTTPResponseData(status: 200, headers: [], body: Array(body.utf8))
        }
        var ids: [String] = []
        do {
            for try await group in stub.client().findAllGroups(pageSize: 2) { ids.append(group.id ?? "") }
            XCTFail("a server that ignores startIndex must not page on")
        } catch {
            XCTAssertTrue(error.description.contains("asked for startIndex=3"), error.description)
        }
        XCTAssertEqual(ids, ["g1", "g2"])
    }

    func testABodyThatIsNotAGroup() async throws {
        let stub = StubTransport(status: 200, contentType: "application/scim+json", body: "[1]")
        let error = try await expectError { try await stub.client().getGroup(id: "g1") }
        XCTAssertEqual(error.detail, "the body is not a SCIM Group object")
    }
}
