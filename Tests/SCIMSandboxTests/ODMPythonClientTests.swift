import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// ODM's own generated Python client (`odm-api` from PyPI, its `GroupsApi` and pydantic models) against the sandbox:
/// what the sandbox sends must pass ODM's models, and what they send must work. `make test-deps` installs the
/// package into `.venv-odm-api/` (scripts/ensure-odm-api.sh).
final class ODMPythonClientTests: XCTestCase {
    static let python = Fixtures.packageRoot + "/.venv-odm-api/bin/python3"

    /// Creates, finds, gets, adds and removes a member, and deletes a group with `GroupsApi`, printing what it
    /// got back as one JSON object. Each answer goes through odm_api's models (`CreateGroup201Response`,
    /// `FilterGroupsResponse`), which reject what ODM's OpenAPI description does not allow.
    static let script = #"""
        import json, sys
        import odm_api
        from odm_api.api.groups_api import GroupsApi
        from odm_api.exceptions import ApiException
        from odm_api.models.create_group_request import CreateGroupRequest
        from odm_api.models.group_patch import GroupPatch
        from odm_api.models.group_patch_operations_inner import GroupPatchOperationsInner

        host, token, member = sys.argv[1:4]
        configuration = odm_api.Configuration(host=host)
        configuration.api_key["Genestack-API-Token"] = token
        api = GroupsApi(odm_api.ApiClient(configuration))
        patch_op = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
        out = {}

        created = api.create_group(CreateGroupRequest(displayName="Python Curators", externalId="PY-1"))
        out["created"] = created.to_dict()
        found = api.find_groups(filter='displayName eq "Python Curators"', start_index=1, count=10)
        out["found"] = found.to_dict()
        out["all"] = [g.display_name for g in api.find_groups(excluded_attributes="members").resources]
        api.patch_group(created.id, GroupPatch(schemas=[patch_op], Operations=[
            GroupPatchOperationsInner(op="add", value={"members": [{"value": member}]}),
        ]))
        out["afterAdd"] = api.get_group(created.id).to_dict()
        api.patch_group(created.id, GroupPatch(schemas=[patch_op], Operations=[
            GroupPatchOperationsInner(op="remove", path='members[value eq "%s"]' % member),
        ]))
        out["afterRemove"] = api.get_group(created.id, excluded_attributes="members").to_dict()
        api.delete_group(created.id)
        try:
            api.get_group(created.id)
            out["afterDelete"] = 200
        except ApiException as e:
            out["afterDelete"] = e.status
        try:
            api.find_groups(filter='displayName co "Py"')
        except ApiException as e:
            out["badFilter"] = {"status": e.status, "body": json.loads(e.body)}
        print(json.dumps(out, default=str))
        """#

    func testODMsPythonClientCreatesFindsPatchesAndDeletesGroups() async throws {
        // `make test-deps` installs it: a missing one is a broken set-up, so the test fails rather than skips.
        XCTAssertTrue(
            FileManager.default.isExecutableFile(atPath: Self.python),
            "odm-api is not installed at \(Self.python); run `make test-deps`")
        guard FileManager.default.isExecutableFile(atPath: Self.python) else { return }
        let server = try await SandboxServer.start(SandboxConfiguration())
        let result: Fixtures.ProcessResult
        do {
            result = try Fixtures.run(
                Self.python,
                ["-c", Self.script, "http://127.0.0.1:\(server.port)", admin, bjensenId],
                timeout: 60)
        } catch {
            await server.stop()
            throw error
        }
        let log = server.requestLog().map(\.description)
        await server.stop()
        XCTAssertEqual(result.status, 0, "stderr: \(result.stderr)\nlog: \(log)")
        let out = try JSONParser.parse(result.stdout)
        let created = try XCTUnwrap(out["created"], result.stdout)
        let id = try XCTUnwrap(created["id"]?.stringValue)
        XCTAssertEqual(created["displayName"], "Python Curators")
        XCTAssertEqual(created["externalId"], "PY-1")
        XCTAssertEqual(
            created["members"]?.arrayValue?.compactMap { $0["value"]?.stringValue },
            [
                SandboxConfiguration.defaultAdminUserId
            ])
        XCTAssertEqual(created["meta"]?["resourceType"], "Group")
        XCTAssertEqual(out["found"]?["totalResults"], 1)
        XCTAssertEqual(out["found"]?["Resources"]?.arrayValue?.first?["id"]?.stringValue, id)
        XCTAssertEqual(out["all"], ["Engineering", "Data Stewards", "Curators", "Python Curators"])
        let afterAdd = out["afterAdd"]?["members"]?.arrayValue ?? []
        XCTAssertEqual(
            afterAdd.compactMap { $0["value"]?.stringValue },
            [
                SandboxConfiguration.defaultAdminUserId, bjensenId,
            ])
        XCTAssertEqual(afterAdd.last?["display"], "Barbara Jensen")
        XCTAssertEqual(afterAdd.last?["$ref"]?.stringValue, "http://127.0.0.1:\(server.port)\(base)/Users/\(bjensenId)")
        XCTAssertEqual(out["afterRemove"]?["displayName"], "Python Curators")
        XCTAssertNil(out["afterRemove"]?["members"], "excluded_attributes=members")
        XCTAssertEqual(out["afterDelete"], 404)
        XCTAssertEqual(out["badFilter"]?["status"], 400)
        XCTAssertEqual(out["badFilter"]?["body"]?["scimType"], "invalidFilter")
        XCTAssertEqual(
            log.filter { $0.hasPrefix("PATCH") || $0.hasPrefix("DELETE") || $0.hasPrefix("POST") }.map {
                String($0.split(separator: " ").first ?? "") + " " + String($0.split(separator: " ").last ?? "")
            },
            ["POST 201", "PATCH 204", "PATCH 204", "DELETE 204"])
    }
}
