import Foundation
import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// Discovery (RFC 7644 §4) and ETags (§3.14) against a server that has them (scim2-server) and one that follows
/// ODM and has none (the sandbox).
final class DiscoveryTests: XCTestCase {
    static let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

    /// Starts scim2-server, runs `body` with it and a client for it, and stops both.
    func withScim2(
        serviceProviderConfig: String? = nil, _ body: (Scim2Server, SCIMClient) async throws -> Void
    ) async throws {
        let server = try await Scim2Server.start(serviceProviderConfig: serviceProviderConfig)
        let client = server.makeClient()
        do {
            try await body(server, client)
        } catch {
            await client.shutdown()
            server.stop()
            throw error
        }
        await client.shutdown()
        server.stop()
    }

    func testTheSandboxLikeODMAnswers404AtEveryDiscoveryEndpoint() async throws {
        try await withSandbox { server, client in
            for path in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"] {
                let r = client.request("GET", path: path)
                let error = try await expectError { try await client.perform(r, idempotent: true) }
                XCTAssertEqual(error.status, 404, path)
            }
            let found = try await client.discover()
            XCTAssertFalse(found.isOffered)
            XCTAssertEqual(found.absence, "/ServiceProviderConfig answered 404 Not Found")
            XCTAssertTrue(found.schemas.isEmpty)
            // No discovery: the other two endpoints are not asked.
            XCTAssertEqual(
                server.requestLog().filter { $0.uri.contains("/Schemas") || $0.uri.contains("/ResourceTypes") }.count,
                2, "only the three direct requests above")
        }
    }

    func testScim2ServerDescribesItselfAndItsUserSchemas() async throws {
        try await withScim2 { _, client in
            let d = try await client.discover()
            let config = try XCTUnwrap(d.config)
            XCTAssertTrue(config.patch)
            XCTAssertTrue(config.filter)
            XCTAssertEqual(config.maxResults, 1000)
            XCTAssertTrue(config.sort)
            XCTAssertTrue(config.etag)
            XCTAssertTrue(config.bulk)
            XCTAssertEqual(config.bulkMaxOperations, 1000)
            XCTAssertTrue(config.changePassword)
            XCTAssertEqual(d.userType?.endpoint, "/Users")
            XCTAssertEqual(d.userType?.schemaExtensions.map(\.schema), [DiscoveryTests.enterprise])

            let userName = try XCTUnwrap(d.userAttribute(AttributePath(name: "username")))
            XCTAssertEqual(userName.type, "string")
            XCTAssertEqual(userName.uniqueness, "server")
            XCTAssertTrue(userName.required)
            XCTAssertEqual(d.caseExact(AttributePath(name: "userName")), false)
            let emails = try XCTUnwrap(d.userAttribute(AttributePath(name: "emails")))
            XCTAssertTrue(emails.multiValued)
            XCTAssertEqual(emails.type, "complex")
            XCTAssertEqual(d.userAttribute(AttributePath(name: "emails", subAttribute: "type"))?.type, "string")
            XCTAssertEqual(d.userAttribute(AttributePath(name: "groups"))?.mutability, "readOnly")
            let employee = d.userAttribute(
                AttributePath(schema: DiscoveryTests.enterprise, name: "employeeNumber"))
            XCTAssertEqual(employee?.type, "string")
            XCTAssertEqual(d.caseExact(AttributePath(name: "id")), true, "a common attribute (RFC 7643 §3.1)")
            XCTAssertEqual(d.userAttribute(AttributePath(name: "meta", subAttribute: "lastModified"))?.type, "dateTime")
            XCTAssertNil(d.userAttribute(AttributePath(name: "dispayName")))
            XCTAssertNil(d.userAttribute(AttributePath(name: "name", subAttribute: "nickName")))
            XCTAssertTrue(d.userAttributePaths.contains("name.givenName"))
            let exact = Set(d.caseExactUserPaths)
            XCTAssertTrue(exact.isSuperset(of: ["id", "externalId", "groups.value", "manager.value"]), "\(exact)")
            XCTAssertFalse(exact.contains("userName"))
            XCTAssertFalse(exact.contains("emails.value"))
            XCTAssertTrue(d.userAttributePaths.contains(DiscoveryTests.enterprise + ":employeeNumber"))
        }
    }

    func testWhatTheServerAnnouncesIsRead() async throws {
        let config =
            #"{"patch":{"supported":false},"filter":{"supported":false},"etag":{"supported":false},"#
            + #""sort":{"supported":false},"bulk":{"supported":false},"changePassword":{"supported":false}}"#
        try await withScim2(serviceProviderConfig: config) { _, client in
            let d = try await client.discover()
            XCTAssertEqual(
                d.config, ServiceProviderConfig(authenticationSchemes: d.config?.authenticationSchemes ?? []))
            XCTAssertFalse(d.schemas.isEmpty)
        }
    }

    func testTheCacheAsksOncePerServerEvenWhenAskedTogether() async throws {
        try await withSandbox { server, client in
            let cache = DiscoveryCache()
            XCTAssertNil(cache.known(baseURL: client.configuration.baseURL))
            async let a = cache.discovery(using: client)
            async let b = cache.discovery(using: client)
            let (x, y) = await (a, b)
            XCTAssertEqual(x, y)
            XCTAssertEqual(x?.isOffered, false)
            _ = await cache.discovery(using: client)
            XCTAssertEqual(cache.known(baseURL: client.configuration.baseURL)?.isOffered, false)
            XCTAssertEqual(server.requestLog().filter { $0.uri.hasSuffix("/ServiceProviderConfig") }.count, 1)
        }
    }

    func testAServerThatCannotBeReachedIsAskedAgainLater() async throws {
        let port = try LoopbackPort.free()
        let client = SCIMClient(
            configuration: SCIMConfiguration(host: "http://127.0.0.1:\(port)", retry: RetryPolicy(maxAttempts: 1)))
        let cache = DiscoveryCache()
        let first = await cache.discovery(using: client)
        XCTAssertNil(first, "no answer says nothing about the server's endpoints")
        XCTAssertNil(cache.known(baseURL: client.configuration.baseURL))
        await client.shutdown()
    }

    /// A server whose discovery fails (here 503; a stalled one costs a timeout each time) is not asked again at
    /// every statement: the failure is kept for a while with the same configuration; a 401 is asked again at once.
    func testAFailedDiscoveryIsNotAskedAgainAtOnceExceptAfter401OrWithAnotherToken() async throws {
        for (status, asked) in [(503, 1), (403, 1), (401, 3)] {
            let server = try HostileServer(handler: HostileServer.respond(status: status, body: "{}"))
            defer { server.stop() }
            let configuration = SCIMConfiguration(
                host: server.origin, auth: .bearer("t1"), retry: RetryPolicy(maxAttempts: 1))
            let client = SCIMClient(configuration: configuration)
            let cache = DiscoveryCache()
            for _ in 0..<3 { _ = await cache.discovery(using: client) }
            XCTAssertEqual(server.requests.count, asked, "status \(status)")
            var other = configuration
            other.auth = .bearer("t2")
            let another = SCIMClient(configuration: other)
            _ = await cache.discovery(using: another)
            XCTAssertEqual(server.requests.count, asked + 1, "status \(status), another token asks again")
            let forgetful = DiscoveryCache(failureLifetime: .zero)
            for _ in 0..<2 { _ = await forgetful.discovery(using: client) }
            XCTAssertEqual(server.requests.count, asked + 3, "status \(status), nothing kept")
            await client.shutdown()
            await another.shutdown()
        }
    }

    func testServiceProviderConfigWithMissingOrOddMembers() throws {
        let json = try JSONParser.parse(
            Array(#"{"patch":{"supported":true},"filter":{"supported":true,"maxResults":-3},"etag":{}}"#.utf8))
        let c = try XCTUnwrap(ServiceProviderConfig(json: json))
        XCTAssertTrue(c.patch)
        XCTAssertTrue(c.filter)
        XCTAssertNil(c.maxResults, "a negative maxResults is ignored")
        XCTAssertFalse(c.etag, "supported is required; missing means no")
        XCTAssertNil(ServiceProviderConfig(json: .array([])))
        let listing = try JSONParser.parse(Array(#"{"totalResults":0,"Resources":[]}"#.utf8))
        XCTAssertNil(ServiceProviderConfig(json: listing), "a server that answers every path with a listing")
        XCTAssertNil(SchemaAttribute(json: .object(JSONObject([("type", "string")]))), "no name")
        XCTAssertTrue(ServerDiscovery.defaultCaseExact(AttributePath(name: "externalId")))
        XCTAssertTrue(ServerDiscovery.defaultCaseExact(AttributePath(name: "meta", subAttribute: "version")))
        XCTAssertFalse(ServerDiscovery.defaultCaseExact(AttributePath(name: "userName")))
        XCTAssertFalse(ServerDiscovery.defaultCaseExact(AttributePath(name: "meta", subAttribute: "created")))
    }

    // MARK: - ETags

    func testAWriteWithTheVersionReadIsRefusedWhenTheUserChangedInBetween() async throws {
        try await withScim2 { server, client in
            let created = try await server.seed([
                JSONObject([("userName", "etag.user"), ("displayName", "First")])
            ])
            let id = try XCTUnwrap(created.first?["id"]?.stringValue)
            let read = try await client.getUser(id: id)
            let version = try XCTUnwrap(read.attributes["meta"]?["version"]?.stringValue)
            let expected = ExpectedVersion(collection: "/Users", id: id, version: version)

            // Someone else changes the user (no If-Match).
            _ = try await client.patchUser(
                id: id, operations: [PatchOperation(op: .replace, path: "displayName", value: "Someone else")])

            let error = try await expectError {
                try await ExpectedVersion.$current.withValue(expected) {
                    try await client.patchUser(
                        id: id, operations: [PatchOperation(op: .replace, path: "displayName", value: "Mine")])
                }
            }
            XCTAssertEqual(error.status, 412, "\(error)")
            let unchanged = try await client.getUser(id: id).attributes
            XCTAssertEqual(unchanged["displayName"], "Someone else")

            // With the current version the write goes through; an expectation about another user changes nothing.
            let now = try XCTUnwrap(unchanged["meta"]?["version"]?.stringValue)
            let other = ExpectedVersion(collection: "/Users", id: "someone-else", version: version)
            try await ExpectedVersion.$current.withValue(other) {
                _ = try await client.patchUser(
                    id: id, operations: [PatchOperation(op: .replace, path: "nickName", value: "n")])
            }
            let afterOther = try await client.getUser(id: id).attributes
            let fresh = try XCTUnwrap(afterOther["meta"]?["version"]?.stringValue)
            XCTAssertNotEqual(fresh, now)
            try await ExpectedVersion.$current.withValue(
                ExpectedVersion(collection: "/Users", id: id, version: fresh)
            ) {
                _ = try await client.patchUser(
                    id: id, operations: [PatchOperation(op: .replace, path: "displayName", value: "Mine")])
            }
            let mine = try await client.getUser(id: id).attributes
            XCTAssertEqual(mine["displayName"], "Mine")
        }
    }

    func testOnlyWritesToThatResourceCarryIfMatch() throws {
        let client = SCIMClient(configuration: SCIMConfiguration(host: "http://127.0.0.1:9"))
        let expected = ExpectedVersion(collection: "/Users", id: "u1", version: #"W/"7""#)
        ExpectedVersion.$current.withValue(expected) {
            func ifMatch(_ r: HTTPRequestData?) -> String? { r?.headers.first { $0.name == "If-Match" }?.value }
            XCTAssertEqual(ifMatch(try? client.userRequest("PATCH", id: "u1")), #"W/"7""#)
            XCTAssertEqual(ifMatch(try? client.userRequest("DELETE", id: "u1")), #"W/"7""#)
            XCTAssertNil(ifMatch(try? client.userRequest("GET", id: "u1")))
            XCTAssertNil(ifMatch(try? client.userRequest("PATCH", id: "u2")))
            XCTAssertNil(ifMatch(try? client.groupRequest("PATCH", id: "u1")))
        }
        XCTAssertNil((try? client.userRequest("PATCH", id: "u1"))?.headers.first { $0.name == "If-Match" })
    }
}
