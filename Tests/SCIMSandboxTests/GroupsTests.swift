import HTTPTypes
import HummingbirdTesting
import NIOCore
import SCIMCore
import SCIMSandbox
import XCTest

/// The sandbox's Groups API over loopback TCP, rule by rule as ODM's OpenAPI description states them.
final class GroupsTests: XCTestCase {
    static let engineering = "4f1c2a3b-8d7e-4a6f-9b2c-1e0d3f5a7b11"
    static let dataStewards = "6a3e4c5d-0f9a-4c8b-8d4e-3a2f5b7c9d22"
    static let curators = "8c5a6e7f-2b1c-4e0d-af6a-5c4b7d9e1f33"
    static let rkumarId = "7e2f9a14-6c3d-4b8e-a1f0-3c5d7e9b2a02"
    static let mgarciaId = "9b4c6d28-1e5f-4a7b-8c2d-4e6f8a0c3b03"
    static let tnguyenId = "a3d5e7f9-2b4c-4d6e-9f1a-5b7c9d1e4c04"
    static let aliceId = "5d8a1c52-3b0e-4c1a-9f6e-2a7b9d4e1f01"
    /// rkumar: admin of Engineering, a plain member of Data Stewards.
    static let rkumar = TokenStyle.bearer("scimsh-sandbox-rkumar")
    /// mgarcia: admin of Data Stewards, a plain member of Curators.
    static let mgarcia = TokenStyle.genestack("scimsh-sandbox-mgarcia")

    /// Runs `body` against a sandbox listening on a loopback port.
    func withLiveSandbox(
        _ configuration: SandboxConfiguration = SandboxConfiguration(),
        _ body: @Sendable (Sandbox, any TestClientProtocol) async throws -> Void
    ) async throws {
        let sandbox = Sandbox(configuration: configuration)
        try await sandbox.makeApplication().test(.live) { client in try await body(sandbox, client) }
    }

    func testListShowsAdminEveryGroupAndAPlainUserItsOwn() async throws {
        try await withLiveSandbox { _, client in
            let all = try await client.send(.get, "/Groups")
            XCTAssertEqual(all.status, 200, all.text)
            XCTAssertEqual(all.contentType, "application/scim+json")
            XCTAssertEqual(all.json?["schemas"], [.string(SCIMSchema.listResponse)])
            XCTAssertEqual(groupNames(all), ["Engineering", "Data Stewards", "Curators"])
            XCTAssertEqual(all.json?["totalResults"], 3)
            XCTAssertEqual(all.json?["startIndex"], 1)
            XCTAssertEqual(all.json?["itemsPerPage"], 3)
            let asRkumar = try await client.send(.get, "/Groups", auth: Self.rkumar)
            XCTAssertEqual(groupNames(asRkumar), ["Engineering", "Data Stewards"])
            let asMgarcia = try await client.send(.get, "/Groups", auth: Self.mgarcia)
            XCTAssertEqual(groupNames(asMgarcia), ["Data Stewards", "Curators"])
            let asTnguyen = try await client.send(.get, "/Groups", auth: .bearer(limited))
            XCTAssertEqual(groupNames(asTnguyen), ["Engineering"])
        }
    }

    func testAGroupLooksAsODMSendsIt() async throws {
        try await withLiveSandbox { _, client in
            let r = try await client.send(.get, "/Groups/\(Self.engineering)")
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertEqual(
                r.json?.objectValue?.keys, ["schemas", "id", "externalId", "displayName", "members", "meta"])
            XCTAssertEqual(r.json?["schemas"], [.string(SCIMSchema.group)])
            XCTAssertEqual(r.json?["meta"]?["resourceType"], "Group")
            let location = try XCTUnwrap(r.json?["meta"]?["location"]?.stringValue)
            XCTAssertTrue(location.hasPrefix("http://"), location)
            XCTAssertTrue(location.hasSuffix("\(base)/Groups/\(Self.engineering)"), location)
            let first = try XCTUnwrap(r.json?["members"]?.arrayValue?.first)
            XCTAssertEqual(first["value"]?.stringValue, Self.rkumarId)
            XCTAssertEqual(first["display"], "Rahul Kumar")
            XCTAssertEqual(
                first["$ref"]?.stringValue,
                location.replacingOccurrences(
                    of: "/Groups/\(Self.engineering)", with: "/Users/\(Self.rkumarId)"))
        }
    }

    func testFilterSupportsOnlyDisplayNameEq() async throws {
        try await withLiveSandbox { _, client in
            let found = try await client.send(.get, "/Groups?filter=displayName%20eq%20%22Data%20Stewards%22")
            XCTAssertEqual(groupNames(found), ["Data Stewards"])
            XCTAssertEqual(found.json?["totalResults"], 1)
            let caseDiffers = try await client.send(.get, "/Groups?filter=DISPLAYNAME%20EQ%20%22data%20stewards%22")
            XCTAssertEqual(caseDiffers.status, 200, caseDiffers.text)
            XCTAssertEqual(groupNames(caseDiffers), [], "names and operators are case-insensitive, the value is not")
            for filter in [
                "displayName%20co%20%22Data%22", "externalId%20eq%20%22GRP-ENG%22",
                "displayName%20eq%20%22a%22%20or%20displayName%20eq%20%22b%22", "displayName%20pr", "(((",
            ] {
                assertSCIMError(try await client.send(.get, "/Groups?filter=\(filter)"), 400, "invalidFilter")
            }
            let hidden = try await client.send(
                .get, "/Groups?filter=displayName%20eq%20%22Curators%22", auth: Self.rkumar)
            XCTAssertEqual(hidden.json?["totalResults"], 0, "a filter finds only groups the caller sees")
        }
    }

    func testExcludedAttributesMembersAndPaging() async throws {
        try await withLiveSandbox { _, client in
            let lean = try await client.send(.get, "/Groups?excludedAttributes=members")
            XCTAssertEqual(lean.json?["Resources"]?.arrayValue?.count, 3)
            XCTAssertEqual(lean.json?["Resources"]?.arrayValue?.contains { $0["members"] != nil }, false)
            let other = try await client.send(.get, "/Groups?excludedAttributes=displayName")
            XCTAssertEqual(groupNames(other).count, 3, "another value is ignored")
            XCTAssertEqual(other.json?["Resources"]?.arrayValue?.allSatisfy { $0["members"] != nil }, true)
            let one = try await client.send(.get, "/Groups/\(Self.curators)?excludedAttributes=members")
            XCTAssertEqual(one.json?["displayName"], "Curators")
            XCTAssertNil(one.json?["members"])
            let page = try await client.send(.get, "/Groups?startIndex=2&count=1")
            XCTAssertEqual(groupNames(page), ["Data Stewards"])
            XCTAssertEqual(page.json?["totalResults"], 3)
            XCTAssertEqual(page.json?["startIndex"], 2)
        }
    }

    func testDefaultPageIs100() async throws {
        try await withLiveSandbox { _, client in
            for i in 1...101 {
                assertStatus(try await client.send(.post, "/Groups", json: ["displayName": .string("G\(i)")]), 201)
            }
            let page = try await client.send(.get, "/Groups?excludedAttributes=members")
            XCTAssertEqual(page.json?["totalResults"], 104)
            XCTAssertEqual(page.json?["itemsPerPage"], 100)
        }
    }

    func testCreateMakesTheCallerGroupAdminWithoutUniquenessOrPermission() async throws {
        try await withLiveSandbox { sandbox, client in
            let body: JSONValue = [
                "schemas": [.string(SCIMSchema.group)], "displayName": "Engineering", "externalId": "X-1",
                "members": [], "colour": "blue",
            ]
            let r = try await client.send(.post, "/Groups", auth: .bearer(limited), json: body)
            XCTAssertEqual(r.status, 201, r.text)
            let id = try XCTUnwrap(r.json?["id"]?.stringValue)
            XCTAssertEqual(r.json?["displayName"], "Engineering", "names need not be unique")
            XCTAssertEqual(r.json?["externalId"], "X-1")
            XCTAssertNil(r.json?["colour"], "unknown attributes are ignored")
            XCTAssertEqual(memberIds(r.json), [Self.tnguyenId])
            XCTAssertEqual(r.headers[.location], r.json?["meta"]?["location"]?.stringValue)
            // The creator is its group admin: it may rename the group.
            let renamed = try await client.send(
                .patch, "/Groups/\(id)", auth: .bearer(limited),
                json: patchBody(["op": "replace", "path": "displayName", "value": "Platform"]))
            XCTAssertEqual(renamed.status, 204, renamed.text)
            XCTAssertEqual(sandbox.group(id: id)?["displayName"], "Platform")
            XCTAssertEqual(sandbox.groups().count, 4)
        }
    }

    func testCreateRefusesMembersAndNeedsADisplayName() async throws {
        try await withLiveSandbox { sandbox, client in
            let withMembers: JSONValue = ["displayName": "X", "members": [["value": .string(bjensenId)]]]
            assertSCIMError(try await client.send(.post, "/Groups", json: withMembers), 400, "invalidValue")
            assertSCIMError(try await client.send(.post, "/Groups", json: ["externalId": "x"]), 400, "invalidValue")
            assertSCIMError(try await client.send(.post, "/Groups", json: ["displayName": 3]), 400, "invalidValue")
            assertSCIMError(try await client.send(.post, "/Groups", raw: "{"), 400, "invalidSyntax")
            XCTAssertEqual(sandbox.groups().count, 3)
        }
    }

    func testGetIs404WithoutAccess() async throws {
        try await withLiveSandbox { _, client in
            let r = try await client.send(.get, "/Groups/\(Self.curators)", auth: Self.rkumar)
            assertSCIMError(r, 404, nil)
            assertSCIMError(try await client.send(.get, "/Groups/no-such-group"), 404, nil)
            assertStatus(try await client.send(.get, "/Groups/\(Self.curators)", auth: Self.mgarcia), 200)
        }
    }

    func testPatchAddsAndRemovesMembersAndAnswers204() async throws {
        try await withLiveSandbox { sandbox, client in
            let add = try await client.send(
                .patch, "/Groups/\(Self.engineering)", auth: Self.rkumar,
                json: patchBody(["op": "add", "path": "members", "value": [["value": .string(Self.mgarciaId)]]]))
            XCTAssertEqual(add.status, 204, add.text)
            XCTAssertEqual(add.text, "", "no body")
            XCTAssertEqual(
                memberIds(sandbox.group(id: Self.engineering).map(JSONValue.object)).last, Self.mgarciaId)
            // The new member now sees the group.
            assertStatus(try await client.send(.get, "/Groups/\(Self.engineering)", auth: Self.mgarcia), 200)
            let pathless = try await client.send(
                .patch, "/Groups/\(Self.engineering)",
                json: patchBody(["op": "add", "value": ["members": [["value": .string(bjensenId)]]]]))
            XCTAssertEqual(pathless.status, 204, pathless.text)
            let remove = try await client.send(
                .patch, "/Groups/\(Self.engineering)", auth: Self.rkumar,
                json: patchBody(["op": "remove", "path": .string("members[value eq \"\(Self.mgarciaId)\"]")]))
            XCTAssertEqual(remove.status, 204, remove.text)
            let after = memberIds(sandbox.group(id: Self.engineering).map(JSONValue.object))
            XCTAssertFalse(after.contains(Self.mgarciaId))
            XCTAssertTrue(after.contains(bjensenId))
            assertSCIMError(
                try await client.send(.get, "/Groups/\(Self.engineering)", auth: Self.mgarcia), 404, nil)
            let unknownUser = try await client.send(
                .patch, "/Groups/\(Self.engineering)",
                json: patchBody(["op": "add", "path": "members", "value": [["value": "nobody"]]]))
            assertSCIMError(unknownUser, 400, "invalidValue")
        }
    }

    func testPatchEditsDisplayNameAndExternalIdRefusesIdIgnoresUnknown() async throws {
        try await withLiveSandbox { sandbox, client in
            let path = "/Groups/\(Self.curators)"
            let edit = try await client.send(
                .patch, path,
                json: patchBody(
                    ["op": "replace", "path": "displayName", "value": "Curation"],
                    ["op": "add", "path": "externalId", "value": "CUR-1"],
                    ["op": "replace", "path": "colour", "value": "blue"]))
            XCTAssertEqual(edit.status, 204, edit.text)
            XCTAssertEqual(sandbox.group(id: Self.curators)?["displayName"], "Curation")
            XCTAssertEqual(sandbox.group(id: Self.curators)?["externalId"], "CUR-1")
            XCTAssertNil(sandbox.group(id: Self.curators)?["colour"])
            let removeExternal = try await client.send(
                .patch, path, json: patchBody(["op": "remove", "path": "externalId"]))
            XCTAssertEqual(removeExternal.status, 204, removeExternal.text)
            XCTAssertNil(sandbox.group(id: Self.curators)?["externalId"])
            for op: JSONValue in [
                ["op": "replace", "path": "id", "value": "other"],
                ["op": "replace", "path": "id", "value": .string(Self.curators)],
                ["op": "replace", "value": ["id": "other"]],
            ] {
                assertSCIMError(try await client.send(.patch, path, json: patchBody(op)), 400, "mutability")
            }
        }
    }

    func testPatchIsAtomic() async throws {
        try await withLiveSandbox { sandbox, client in
            let before = sandbox.group(id: Self.engineering)
            let r = try await client.send(
                .patch, "/Groups/\(Self.engineering)",
                json: patchBody(
                    ["op": "replace", "path": "displayName", "value": "Renamed"],
                    ["op": "add", "path": "members", "value": [["value": .string(bjensenId)]]],
                    ["op": "replace", "path": "id", "value": "x"]))
            assertSCIMError(r, 400, "mutability")
            XCTAssertEqual(sandbox.group(id: Self.engineering), before, "no operation applied")
        }
    }

    func testPatchAndDeleteNeedGroupAdminOrManageGroups() async throws {
        try await withLiveSandbox { sandbox, client in
            // rkumar is a plain member of Data Stewards.
            let patch = try await client.send(
                .patch, "/Groups/\(Self.dataStewards)", auth: Self.rkumar,
                json: patchBody(["op": "replace", "path": "displayName", "value": "Mine"]))
            assertSCIMError(patch, 403, nil)
            assertSCIMError(try await client.send(.delete, "/Groups/\(Self.dataStewards)", auth: Self.rkumar), 403, nil)
            // A caller who cannot see the group gets 404, as for GET.
            assertSCIMError(try await client.send(.delete, "/Groups/\(Self.curators)", auth: Self.rkumar), 404, nil)
            XCTAssertEqual(sandbox.group(id: Self.dataStewards)?["displayName"], "Data Stewards")
            // Its group admin may; so may the admin ("Manage groups") in a group it is not a member of.
            assertStatus(try await client.send(.delete, "/Groups/\(Self.dataStewards)", auth: Self.mgarcia), 204)
            assertStatus(try await client.send(.delete, "/Groups/\(Self.engineering)"), 204)
            XCTAssertEqual(sandbox.groups().compactMap { $0["displayName"]?.stringValue }, ["Curators"])
        }
    }

    func testDeleteKeepsTheMembersActive() async throws {
        try await withLiveSandbox { sandbox, client in
            let r = try await client.send(.delete, "/Groups/\(Self.engineering)", auth: Self.rkumar)
            XCTAssertEqual(r.status, 204, r.text)
            XCTAssertEqual(r.text, "")
            assertSCIMError(try await client.send(.get, "/Groups/\(Self.engineering)"), 404, nil)
            assertSCIMError(try await client.send(.delete, "/Groups/\(Self.engineering)"), 404, nil)
            for id in [Self.rkumarId, Self.tnguyenId] {
                XCTAssertEqual(sandbox.user(id: id)?["active"], true)
            }
        }
    }

    func testDeactivatingAUserKeepsItsMemberships() async throws {
        try await withLiveSandbox { _, client in
            assertStatus(try await client.send(.delete, "/Users/\(Self.tnguyenId)"), 204)
            let group = try await client.send(.get, "/Groups/\(Self.engineering)")
            XCTAssertTrue(memberIds(group.json).contains(Self.tnguyenId), group.text)
            // okoval, deactivated in the seed, is still a member of Data Stewards.
            let stewards = try await client.send(.get, "/Groups/\(Self.dataStewards)")
            XCTAssertTrue(memberIds(stewards.json).contains(okovalId), stewards.text)
        }
    }

    func testPlainUserTokensAre403ForUsersAndTokensAuthenticateAsBefore() async throws {
        try await withLiveSandbox { _, client in
            assertSCIMError(try await client.send(.get, "/Users", auth: Self.rkumar), 403, nil)
            assertSCIMError(try await client.send(.get, "/Users/\(bjensenId)", auth: Self.mgarcia), 403, nil)
            let noToken = try await client.send(.get, "/Groups", auth: .none)
            XCTAssertEqual(noToken.status, 401)
            XCTAssertEqual(noToken.contentType, "application/json")
            XCTAssertNotNil(noToken.errorMessage, noToken.text)
            assertStatus(try await client.send(.get, "/Groups", auth: .bearer("nope")), 401)
            let put = try await client.send(.put, "/Groups/\(Self.engineering)", json: ["displayName": "x"])
            assertSCIMError(put, 405, nil)
            XCTAssertEqual(put.headers[.allow], "GET, PATCH, DELETE")
            assertSCIMError(try await client.send(.delete, "/Groups"), 405, nil)
        }
    }

    func testPlainUserTokensExpireWithATokenLifetime() async throws {
        try await withLiveSandbox(SandboxConfiguration(tokenLifetime: 1)) { _, client in
            assertStatus(try await client.send(.get, "/Groups", auth: Self.rkumar), 200)
            let expired = try await client.send(.get, "/Groups", auth: Self.rkumar)
            XCTAssertEqual(expired.status, 401, expired.text)
            XCTAssertTrue(expired.errorMessage?.contains("token expired") ?? false, expired.text)
            assertStatus(try await client.send(.get, "/Groups", auth: Self.mgarcia), 200)
        }
    }

    func testInjected500IsODMsErrorBody() async throws {
        try await withLiveSandbox { sandbox, client in
            sandbox.failNext(.internalServerError)
            let r = try await client.send(.get, "/Groups")
            XCTAssertEqual(r.status, 500)
            XCTAssertEqual(r.contentType, "application/json")
            XCTAssertNotNil(r.errorMessage, r.text)
        }
    }

    func testRequestLogCoversGroupRequests() async throws {
        try await withLiveSandbox { sandbox, client in
            _ = try await client.send(.get, "/Groups?count=1")
            _ = try await client.send(.delete, "/Groups/\(Self.curators)")
            _ = try await client.send(.delete, "/Groups/\(Self.curators)")
            let log = sandbox.requestLog()
            XCTAssertEqual(
                log.map(\.description),
                [
                    "GET \(base)/Groups?count=1 -> 200", "DELETE \(base)/Groups/\(Self.curators) -> 204",
                    "DELETE \(base)/Groups/\(Self.curators) -> 404",
                ])
            XCTAssertEqual(log.map(\.changedStore), [false, true, false])
        }
    }

    func testWithoutSeedUsersThereAreNoGroups() async throws {
        try await withLiveSandbox(SandboxConfiguration(seedUsers: false)) { sandbox, client in
            let r = try await client.send(.get, "/Groups")
            XCTAssertEqual(r.json?["totalResults"], 0, r.text)
            let created = try await client.send(.post, "/Groups", json: ["displayName": "Solo"])
            XCTAssertEqual(memberIds(created.json), [Self.aliceId], "the admin token speaks for alice.martin")
            XCTAssertEqual(sandbox.groups().count, 1)
        }
    }
}

/// The display names of a list response's groups, in order.
private func groupNames(_ reply: Reply) -> [String] {
    reply.json?["Resources"]?.arrayValue?.compactMap { $0["displayName"]?.stringValue } ?? []
}

/// The user ids of a group's members, in order.
private func memberIds(_ group: JSONValue?) -> [String] {
    group?["members"]?.arrayValue?.compactMap { $0["value"]?.stringValue } ?? []
}
