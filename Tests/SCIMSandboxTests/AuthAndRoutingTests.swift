import HTTPTypes
import HummingbirdTesting
import NIOCore
import SCIMCore
import SCIMSandbox
import XCTest

final class AuthAndRoutingTests: XCTestCase {
    func testBearerAndGenestackHeadersBothAuthenticate() async throws {
        try await withSandbox { _, client in
            let bearer = try await client.send(.get, "/Users/\(bjensenId)", auth: .bearer(admin))
            XCTAssertEqual(bearer.status, 200)
            let genestack = try await client.send(.get, "/Users/\(bjensenId)", auth: .genestack(admin))
            XCTAssertEqual(genestack.status, 200)
            XCTAssertEqual(genestack.json?["userName"], "bjensen")
        }
    }

    func testMissingOrUnknownTokenIs401WithErrorBody() async throws {
        try await withSandbox { _, client in
            for auth in [TokenStyle.none, .bearer("nope"), .genestack("nope")] {
                let r = try await client.send(.get, "/Users", auth: auth)
                XCTAssertEqual(r.status, 401)
                XCTAssertNotNil(r.errorMessage, r.text)
                XCTAssertNil(r.json?["schemas"], "401 is not a SCIM error body")
            }
        }
    }

    func testLimitedTokenIs403SCIMErrorForEveryOperation() async throws {
        try await withSandbox { sandbox, client in
            let requests: [(HTTPRequest.Method, String, JSONValue?)] = [
                (.get, "/Users", nil), (.post, "/Users", userBody("x")), (.get, "/Users/\(bjensenId)", nil),
                (.patch, "/Users/\(bjensenId)", patchBody(["op": "replace", "path": "active", "value": false])),
                (.delete, "/Users/\(bjensenId)", nil),
            ]
            for (method, path, body) in requests {
                let r = try await client.send(method, path, auth: .genestack(limited), json: body)
                assertSCIMError(r, 403, nil)
            }
            XCTAssertEqual(sandbox.user(id: bjensenId)?["active"], true, "nothing changed")
            XCTAssertFalse(sandbox.requestLog().contains { $0.changedStore })
        }
    }

    func testConfiguredTokensAndBasePath() async throws {
        let config = SandboxConfiguration(basePath: "/scim/v2/", adminToken: "A", limitedToken: "L")
        let sandbox = Sandbox(configuration: config)
        try await sandbox.makeApplication().test(.router) { client in
            var headers = HTTPFields()
            headers[.authorization] = "bearer A"
            let ok = try await client.executeRequest(
                uri: "/scim/v2/Users?count=1", method: .get, headers: headers, body: nil)
            XCTAssertEqual(ok.status.code, 200)
            let old = try await client.executeRequest(
                uri: "/api/v1/scim/Users", method: .get, headers: headers, body: nil)
            XCTAssertEqual(old.status.code, 404)
            headers[.authorization] = "Bearer \(admin)"
            let defaultToken = try await client.executeRequest(
                uri: "/scim/v2/Users", method: .get, headers: headers, body: nil)
            XCTAssertEqual(defaultToken.status.code, 401, "the default token is not valid when another is configured")
        }
    }

    func testRootBasePath() async throws {
        let sandbox = Sandbox(configuration: SandboxConfiguration(basePath: "/"))
        try await sandbox.makeApplication().test(.router) { client in
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(admin)"
            let r = try await client.executeRequest(
                uri: "/Users/\(bjensenId)", method: .get, headers: headers, body: nil)
            XCTAssertEqual(r.status.code, 200)
        }
    }

    func testUnknownPathIs404AndWrongMethodIs405() async throws {
        try await withSandbox { _, client in
            assertSCIMError(try await client.send(.get, "/Teams"), 404, nil)
            assertSCIMError(try await client.send(.get, "/Users/a/b"), 404, nil)
            let put = try await client.send(.put, "/Users/\(bjensenId)", json: userBody("bjensen"))
            assertSCIMError(put, 405, nil)
            XCTAssertEqual(put.headers[.allow], "GET, PATCH, DELETE")
            let deleteAll = try await client.send(.delete, "/Users")
            XCTAssertEqual(deleteAll.status, 405)
        }
    }

    func testResponsesAreSCIMJSON() async throws {
        try await withSandbox { _, client in
            let r = try await client.send(.get, "/Users")
            XCTAssertEqual(r.contentType, "application/scim+json")
        }
    }

    func testRequestLogRecordsMethodURIStatusAndWrites() async throws {
        try await withSandbox { sandbox, client in
            _ = try await client.send(.get, "/Users?count=2")
            _ = try await client.send(.delete, "/Users/\(bjensenId)")
            _ = try await client.send(.delete, "/Users/\(bjensenId)")
            let log = sandbox.requestLog()
            XCTAssertEqual(
                log,
                [
                    SandboxRequest(
                        method: "GET", uri: "\(base)/Users?count=2", status: 200, isWrite: false, changedStore: false),
                    SandboxRequest(
                        method: "DELETE", uri: "\(base)/Users/\(bjensenId)", status: 204, isWrite: true,
                        changedStore: true),
                    SandboxRequest(
                        method: "DELETE", uri: "\(base)/Users/\(bjensenId)", status: 404, isWrite: true,
                        changedStore: false),
                ])
            sandbox.clearLog()
            XCTAssertTrue(sandbox.requestLog().isEmpty)
        }
    }

    func testRequestLogIsBounded() async throws {
        try await withSandbox(SandboxConfiguration(requestLogLimit: 3)) { sandbox, client in
            for i in 1...10 { _ = try await client.send(.get, "/Users?count=\(i)") }
            XCTAssertEqual(sandbox.requestLog().map(\.uri), (8...10).map { "\(base)/Users?count=\($0)" })
        }
    }
}
