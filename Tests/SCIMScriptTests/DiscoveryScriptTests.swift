import Foundation
import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// `dialect = auto`, `help server`, what a server says it lacks, and ETags, against the sandbox (ODM: no discovery,
/// no ETags) and scim2-server (discovery and ETags).
final class DiscoveryScriptTests: InterpreterTestCase {
    static let users: [JSONObject] = (1...3).map { i in
        JSONObject([
            ("userName", .string("user0000\(i)")), ("displayName", .string("User \(i)")), ("active", .bool(true)),
        ])
    }

    func testAutoPicksODMOnTheSandboxAfterOneDiscoveryRequest() async throws {
        let h = try await makeHarness()
        let r = await h.fresh(#"find userName co "jens""#)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.contains("ODM does not support the operator co"), h.messages)
        XCTAssertEqual(h.fullLog.map(\.description), ["GET /api/v1/scim/ServiceProviderConfig -> 404"])

        await h.expectSuccess("find | count")
        await h.expectSuccess("find | count")
        XCTAssertEqual(h.fullLog.filter(\.isDiscovery).count, 1, "read once per host")

        await h.fresh("help server")
        XCTAssertTrue(h.data.contains("dialect: odm (auto: no discovery, and base_path is ODM's"), h.data)
        XCTAssertTrue(h.data.contains("discovery: none (/ServiceProviderConfig answered 404 Not Found)"), h.data)
        XCTAssertEqual(h.fullLog.count, 0, "help server uses what was read")
    }

    func testAnExplicitDialectWins() async throws {
        let h = try await makeHarness()
        await h.fresh(#"set dialect = rfc; find userName co "jens" | count"#)
        XCTAssertFalse(h.messages.contains("ODM does not support"), h.messages)
        XCTAssertTrue(h.log.contains { $0.uri.contains("/Users?filter=userName%20co") }, "\(h.log)")
        await h.fresh("set dialect = odm; help server")
        XCTAssertTrue(h.data.contains("dialect: odm (set dialect = odm)"), h.data)
        let bad = await h.fresh("set dialect = odn")
        XCTAssertEqual(bad.exitCode, 1)
        XCTAssertTrue(h.messages.contains("dialect must be auto, odm or rfc (not 'odn')"), h.messages)
    }

    func testDialectResolution() {
        let offered = ServerDiscovery(config: ServiceProviderConfig(patch: true))
        let none = ServerDiscovery.notOffered("404")
        XCTAssertEqual(Dialect.resolve(setting: nil, basePath: nil, discovery: nil), .odm)
        XCTAssertEqual(Dialect.resolve(setting: "auto", basePath: "/api/v1/scim/", discovery: none), .odm)
        XCTAssertEqual(Dialect.resolve(setting: "auto", basePath: "/api/v1/scim", discovery: offered), .rfc)
        XCTAssertEqual(Dialect.resolve(setting: nil, basePath: "/scim/v2", discovery: none), .rfc)
        XCTAssertEqual(Dialect.resolve(setting: "ODM", basePath: "/scim/v2", discovery: offered), .odm)
        XCTAssertEqual(Dialect.resolve(setting: "rfc", basePath: nil, discovery: none), .rfc)
    }

    func testAutoPicksRFCOnScim2ServerAndHelpServerShowsWhatItOffers() async throws {
        let (h, _) = try await makeScim2Harness(users: DiscoveryScriptTests.users, dialect: nil)
        let r = await h.fresh(#"find userName co "0002" | select userName | csv"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "userName\nuser00002\n")

        await h.fresh("help server")
        let text = h.data
        XCTAssertTrue(text.contains("dialect: rfc (auto: the server offers discovery)"), text)
        XCTAssertTrue(text.contains("discovery: /ServiceProviderConfig, /ResourceTypes (2), /Schemas"), text)
        XCTAssertTrue(text.contains("etag            supported: a write after a read sends If-Match"), text)
        XCTAssertTrue(text.contains("filter          supported, at most 1000 results per page"), text)
        XCTAssertTrue(text.contains("User at /Users: urn:ietf:params:scim:schemas:core:2.0:User"), text)
        XCTAssertTrue(text.contains("user attributes of urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"))
        XCTAssertTrue(text.contains("emails"), text)
        XCTAssertTrue(
            h.interpreter.completionAttributes.contains(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"))
    }

    func testAnUnknownAttributeGetsASuggestionFromTheServersSchemas() async throws {
        let (h, _) = try await makeScim2Harness(users: DiscoveryScriptTests.users)
        await h.fresh(#"find | where dispayName eq "User 1" | count"#)
        XCTAssertTrue(
            h.messages.contains(
                "warning: the server's schemas define no user attribute 'dispayName' (did you mean 'displayName'?)"),
            h.messages)
        await h.fresh(#"find | where displayName eq "User 1" | count"#)
        XCTAssertFalse(h.messages.contains("warning"), h.messages)
        XCTAssertEqual(h.data, "1\n")

        await h.fresh(#"find userName eq "user00001" | patch nickNam="N" name.givenName="G""#)
        XCTAssertTrue(
            h.messages.contains("no user attribute 'nickNam' (did you mean 'nickName'?) in patch"), h.messages)
        XCTAssertFalse(h.messages.contains("'name.givenName'"), h.messages)
        await h.fresh(#"create userName=new.one displayName="New" tittle="Boss" email=new@example.com"#)
        XCTAssertTrue(h.messages.contains("no user attribute 'tittle' (did you mean 'title'?) in create"), h.messages)
        XCTAssertFalse(h.messages.contains("'email'"), "email= is scimsh's shorthand: \(h.messages)")
    }

    func testWhatTheServerLacksIsDoneHereOrRefusedBeforeSending() async throws {
        let config =
            #"{"patch":{"supported":false},"filter":{"supported":false,"maxResults":2},"#
            + #""etag":{"supported":false},"sort":{"supported":false},"bulk":{"supported":false},"#
            + #""changePassword":{"supported":false}}"#
        let (h, _) = try await makeScim2Harness(
            users: DiscoveryScriptTests.users, serviceProviderConfig: config)
        let r = await h.fresh(#"find userName eq "user00002" | select userName | csv"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "userName\nuser00002\n")
        XCTAssertTrue(h.messages.contains("note: the server does not support filtering"), h.messages)
        XCTAssertFalse(h.messages.contains("do not match"), h.messages)

        let p = await h.fresh(#"find userName eq "user00002" | patch displayName="X""#)
        XCTAssertEqual(p.exitCode, 1)
        XCTAssertTrue(
            h.messages.contains(
                "the server does not support PATCH (its /ServiceProviderConfig says patch.supported = false)"),
            h.messages)
        // Read through scimsh: the server answers at most maxResults (2) users per page.
        await h.fresh(#"find | where userName eq "user00002" | select displayName | csv"#)
        XCTAssertEqual(h.data, "displayName\nUser 2\n", h.messages)

        // A delete goes through (DELETE needs no PATCH); undoing it would PATCH, so undo is refused up front.
        await h.expectSuccess(#"find userName eq "user00003" | delete --force"#)
        let u = await h.fresh("undo")
        XCTAssertEqual(u.exitCode, 1)
        XCTAssertTrue(h.messages.contains("so undo cannot work there; nothing was sent"), h.messages)

        await h.fresh("help server")
        XCTAssertTrue(h.data.contains("patch           not supported: patch and undo are refused"), h.data)
        XCTAssertTrue(h.data.contains("etag            not supported"), h.data)
    }

    // MARK: - ETags

    func testAWriteAfterAReadSendsIfMatch() async throws {
        let (h, scim2) = try await makeScim2Harness(users: DiscoveryScriptTests.users)
        await h.run("set trace = on")
        let r = await h.fresh(#"find userName eq "user00001" | patch displayName="One""#)
        await h.run("set trace = off")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        let lines = h.messages.split(separator: "\n")
        let patchAt = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("> PATCH ") }, h.messages)
        let ifMatch = lines[patchAt...].first { $0.hasPrefix("> If-Match: ") }
        XCTAssertEqual(ifMatch.map(String.init)?.hasPrefix(#"> If-Match: W/""#), true, h.messages)
        let user = try await scim2.users().first { $0["userName"] == "user00001" }
        XCTAssertEqual(user?["displayName"], "One")
    }

    func testAUserChangedBehindScimshsBackIsNotOverwritten() async throws {
        let (h, scim2) = try await makeScim2Harness(users: DiscoveryScriptTests.users)
        await h.expectSuccess(#"let them = find userName eq "user00001" or userName eq "user00002""#)
        // Someone else changes user00001 directly over HTTP, after scimsh read it.
        let other = scim2.makeClient()
        let stored = try await scim2.users()
        let id = try XCTUnwrap(stored.first { $0["userName"] == "user00001" }?["id"]?.stringValue)
        _ = try await other.patchUser(
            id: id, operations: [PatchOperation(op: .replace, path: "displayName", value: "Changed elsewhere")])
        await other.shutdown()

        let r = await h.fresh(#"set on_error = continue; $them | patch displayName="Mine""#)
        XCTAssertEqual(r.exitCode, 1, h.messages)
        XCTAssertTrue(h.messages.contains("412 Precondition Failed"), h.messages)
        XCTAssertTrue(
            h.messages.contains("the user was changed on the server after scimsh read it"), h.messages)
        XCTAssertTrue(h.messages.contains("patched 1 user, 1 failed"), h.messages)
        let users = try await scim2.users()
        XCTAssertEqual(users.first { $0["userName"] == "user00001" }?["displayName"], "Changed elsewhere")
        XCTAssertEqual(users.first { $0["userName"] == "user00002" }?["displayName"], "Mine")

        await h.fresh("journal | select statement ok failed | csv")
        XCTAssertTrue(h.data.hasSuffix(",1,1\n"), h.data)
    }

    func testTheSandboxHasNoETagsAndGetsNoIfMatch() async throws {
        let h = try await makeHarness()
        await h.run("set trace = on")
        let r = await h.fresh(#"find userName eq "bjensen" | patch displayName="B""#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertTrue(h.messages.contains("> PATCH "), h.messages)
        XCTAssertFalse(h.messages.contains("If-Match"), h.messages)
    }
}

/// Completion offers the attributes the server's `/Schemas` define, once a statement has read them.
final class DiscoveryCompletionTests: XCTestCase {
    func testExtensionAttributesFromTheSchemasComplete() {
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        let discovery = ServerDiscovery(
            config: ServiceProviderConfig(patch: true),
            schemas: [
                SchemaDefinition(
                    id: SCIMSchema.user,
                    attributes: [SchemaAttribute(name: "userName"), SchemaAttribute(name: "title")]
                ),
                SchemaDefinition(id: urn, attributes: [SchemaAttribute(name: "employeeNumber")]),
            ])
        let context = CompletionContext(attributes: discovery.userAttributePaths)
        for line in ["find ti", "find | select ti", "find | patch ti"] {
            let r = Completer.complete(line: line, cursor: line.utf8.count, context: context)
            XCTAssertEqual(r.candidates, ["title"], line)
        }
        let line = "find | select \(urn):emp"
        let r = Completer.complete(line: line, cursor: line.utf8.count, context: context)
        XCTAssertEqual(r.candidates, ["\(urn):employeeNumber"], line)
    }
}
