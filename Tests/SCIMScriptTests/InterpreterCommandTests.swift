import Foundation
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// Golden tests of the server commands (find, get, create, patch, delete) against a real sandbox: exact stdout,
/// stderr, requests sent and the sandbox's resulting state.
final class InterpreterServerCommandTests: InterpreterTestCase {
    static let bjensenTable = """
        id                                    userName  displayName     active  email
        ------------------------------------  --------  --------------  ------  -------------------
        2819c223-7f76-453a-919d-413861904646  bjensen   Barbara Jensen  true    bjensen@example.com

        """

    static let allActiveTable = """
        id                                    userName      displayName                      active  email
        ------------------------------------  ------------  -------------------------------  ------  ------------------------
        2819c223-7f76-453a-919d-413861904646  bjensen       Barbara Jensen                   true    bjensen@example.com
        5d8a1c52-3b0e-4c1a-9f6e-2a7b9d4e1f01  alice.martin  Alice Martin                     true    alice.martin@example.org
        7e2f9a14-6c3d-4b8e-a1f0-3c5d7e9b2a02  rkumar        Rahul Kumar                      true    rahul.kumar@example.org
        9b4c6d28-1e5f-4a7b-8c2d-4e6f8a0c3b03  mgarcia       María García                     true    maria.garcia@example.org
        a3d5e7f9-2b4c-4d6e-9f1a-5b7c9d1e4c04  tnguyen       Thanh Nguyen                     true    thanh.nguyen@example.org
        f9a1b3c5-5e7f-4a9b-82d4-8e0f2a4b7f07  svc-pipeline  Data Pipeline (service account)  true    pipeline-bot@example.org

        """

    // MARK: find

    func testFindWithFilter() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find userName eq "bjensen""#)
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, Self.bjensenTable)
        XCTAssertEqual(h.messages, "")
        XCTAssertEqual(
            h.log.map(\.description),
            ["GET /api/v1/scim/Users?filter=userName%20eq%20%22bjensen%22&startIndex=1&count=100 -> 200"])
    }

    func testFindAll() async throws {
        let h = try await makeHarness()
        let r = await h.run("find")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, Self.allActiveTable)
        XCTAssertEqual(h.messages, "")
        XCTAssertEqual(h.log.map(\.description), ["GET /api/v1/scim/Users?startIndex=1&count=100 -> 200"])
    }

    func testFindNothingReportsZeroRecords() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find userName eq "nobody""#)
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "")
        XCTAssertEqual(h.messages, "(0 records)\n")
    }

    func testFindLimit() async throws {
        let h = try await makeHarness()
        let r = await h.run("find --limit 2 | select userName")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "userName\n------------\nbjensen\nalice.martin\n")
        XCTAssertEqual(h.messages, "")
        XCTAssertEqual(h.log.map(\.description), ["GET /api/v1/scim/Users?startIndex=1&count=2 -> 200"])
    }

    func testFindLimitAcrossPages() async throws {
        let h = try await makeHarness(generatedUsers: 20)
        let r = await h.run("set page_size = 4\nfind --limit 10 | count")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "10\n")
        XCTAssertEqual(
            h.log.map(\.description),
            [
                "GET /api/v1/scim/Users?startIndex=1&count=4 -> 200",
                "GET /api/v1/scim/Users?startIndex=5&count=4 -> 200",
                "GET /api/v1/scim/Users?startIndex=9&count=4 -> 200",
            ])
    }

    func testFindPagesWithSmallPageSize() async throws {
        let h = try await makeHarness()
        let r = await h.run("set page_size = 2\nfind")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, Self.allActiveTable, "all pages, in order")
        XCTAssertEqual(h.messages, "")
        XCTAssertEqual(
            h.log.map(\.description),
            [
                "GET /api/v1/scim/Users?startIndex=1&count=2 -> 200",
                "GET /api/v1/scim/Users?startIndex=3&count=2 -> 200",
                "GET /api/v1/scim/Users?startIndex=5&count=2 -> 200",
            ])
    }

    func testFindPagingOverGeneratedUsers() async throws {
        let h = try await makeHarness(generatedUsers: 250, seedUsers: false)
        let r = await h.run("set page_size = 100\nfind | count")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "250\n")
        XCTAssertEqual(h.log.count, 3, h.log.map(\.description).joined(separator: "\n"))
    }

    func testFindVariableIsInsertedAsAQuotedString() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"set who = "bjensen"; find userName eq $who | select userName"#)
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "userName\n--------\nbjensen\n")
        XCTAssertEqual(
            h.log.map(\.uri), ["/api/v1/scim/Users?filter=userName%20eq%20%22bjensen%22&startIndex=1&count=100"])
    }

    func testFindVariableWithAQuoteAndSpacesIsEscaped() async throws {
        let h = try await makeHarness()
        await h.expectSuccess(#"create userName='o"neil x' displayName=O email=oneil@example.com"#)
        await h.fresh(#"set who = 'o"neil x'"#)
        let r = await h.fresh(#"find userName eq $who | select userName"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "userName\n--------\no\"neil x\n")
        XCTAssertEqual(h.messages, "")
        XCTAssertEqual(
            h.log.map(\.uri),
            ["/api/v1/scim/Users?filter=userName%20eq%20%22o%5C%22neil%20x%22&startIndex=1&count=100"],
            "the value is sent as the JSON string \"o\\\"neil x\"")
    }

    func testFindVariableCannotInjectFilterSyntax() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"set who = 'x" or userName pr or userName eq "y'; find userName eq $who"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "")
        XCTAssertEqual(h.messages, "(0 records)\n", "the whole value is one string, not filter syntax")
        XCTAssertEqual(h.writes, [])
    }

    func testFindByEmailValuePath() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find emails[type eq "work" and value eq "rahul.kumar@example.org"] | select userName"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "userName\n--------\nrkumar\n")
        XCTAssertEqual(h.log.count, 1)
    }

    func testFindWithAFilterODMDoesNotSupportIsRejectedBeforeSending() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find userName co "jen""#)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "")
        XCTAssertEqual(
            h.messages,
            """
            <input>:1:6: error: ODM does not support the operator co in filters; it supports only eq and and (and emails[type eq "work" and value eq "…"]). Filter locally instead: find | where userName co "jen" — or set dialect = rfc for other servers
                find userName co "jen"
                     ^~~~~~~~~~~~~~~~~

            """)
        XCTAssertEqual(h.log, [], "nothing sent")
    }

    // MARK: get

    func testGetByIds() async throws {
        let h = try await makeHarness()
        let r = await h.run("get \(Seed.rkumar) \(Seed.bjensen) | select userName")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "userName\n--------\nrkumar\nbjensen\n", "input order kept")
        XCTAssertEqual(h.messages, "", "reads print no summary")
        XCTAssertEqual(
            Set(h.log.map(\.description)),
            [
                "GET /api/v1/scim/Users/\(Seed.rkumar) -> 200", "GET /api/v1/scim/Users/\(Seed.bjensen) -> 200",
            ])
    }

    func testGetOneUserTable() async throws {
        let h = try await makeHarness()
        let r = await h.run("get \(Seed.bjensen)")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, Self.bjensenTable)
        XCTAssertEqual(h.messages, "")
    }

    func testGetFromInput() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find userName eq "rkumar" | get | select userName displayName"#)
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "userName  displayName\n--------  -----------\nrkumar    Rahul Kumar\n")
        XCTAssertEqual(h.messages, "")
        XCTAssertEqual(h.requests("GET").filter { $0.uri.hasSuffix("/Users/\(Seed.rkumar)") }.count, 1)
    }

    func testGetMissingUserIsReportedOthersProceedAndStatementFails() async throws {
        let h = try await makeHarness()
        // Per-record errors appear as requests finish; one at a time makes their order the input order.
        let r = await h.run("set concurrency = 1\nget nope \(Seed.bjensen) \(Seed.okoval)\necho after")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(r.status, .failed)
        XCTAssertEqual(h.data, Self.bjensenTable, "the found user is printed; the script stopped before echo")
        XCTAssertEqual(
            h.messages,
            """
            error: user nope: 404 Not Found: There are no users with the specified id (GET /api/v1/scim/Users/nope)
            error: user \(Seed.okoval): 404 Not Found: There are no users with the specified id (GET /api/v1/scim/Users/\(Seed.okoval))
            fetched 1 user, 2 failed

            """)
    }

    // MARK: create

    func testCreateOneUser() async throws {
        let h = try await makeHarness()
        let before = h.server.users().count
        let r = await h.run(
            #"create userName=ajohnson displayName="Alice Johnson" email=ajohnson@example.com | select userName displayName active email"#
        )
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(
            h.data,
            """
            userName  displayName    active  email
            --------  -------------  ------  --------------------
            ajohnson  Alice Johnson  true    ajohnson@example.com

            """)
        XCTAssertEqual(h.messages, "created 1 user\n")
        XCTAssertEqual(h.server.users().count, before + 1)
        let user = try XCTUnwrap(h.user("ajohnson"))
        XCTAssertEqual(user["displayName"], "Alice Johnson")
        XCTAssertEqual(user["active"], .bool(true), "active defaults to true")
        XCTAssertEqual(
            user["emails"],
            .array([.object(JSONObject([("type", "work"), ("value", "ajohnson@example.com"), ("primary", true)]))]))
        XCTAssertEqual(h.writes.map(\.method), ["POST"])
    }

    func testCreateTypedValues() async throws {
        let h = try await makeHarness()
        let r = await h.run(
            #"create userName=typed displayName=Typed externalId="00123" active=false email=t@example.com"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        let user = try XCTUnwrap(h.user("typed"))
        XCTAssertEqual(user["externalId"], .string("00123"), "quoted text stays a string")
        XCTAssertEqual(user["active"], .bool(false), "false is a Boolean")
    }

    func testCreateIsAnUpsertOnUserName() async throws {
        let h = try await makeHarness()
        let before = h.server.users().count
        let r = await h.run(
            #"create userName=bjensen displayName="B. J." email=bj@example.com | select id displayName"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(
            h.data,
            """
            id                                    displayName
            ------------------------------------  -----------
            2819c223-7f76-453a-919d-413861904646  B. J.

            """, "the same user, updated")
        XCTAssertEqual(h.messages, "created 1 user\n")
        XCTAssertEqual(h.server.users().count, before, "no new user")
        XCTAssertEqual(h.user("bjensen")?["displayName"], "B. J.")
        XCTAssertEqual(h.user("bjensen")?["id"], .string(Seed.bjensen))
    }

    func testCreateFromImportedRecords() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        try write(
            "userName,displayName,email,externalId\nnew1,New One,new1@example.com,E-1\nnew2,New Two,new2@example.com,\n",
            to: dir + "/hires.csv")
        let r = await h.run("import \(dir)/hires.csv | create | select userName displayName externalId active")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(
            h.data,
            """
            userName  displayName  externalId  active
            --------  -----------  ----------  ------
            new1      New One      E-1         true
            new2      New Two                  true

            """)
        XCTAssertEqual(h.messages, "created 2 users\n")
        XCTAssertEqual(h.user("new1")?["externalId"], "E-1")
        XCTAssertEqual(h.user("new2")?["displayName"], "New Two")
        XCTAssertNil(h.user("new2")?["externalId"], "empty cells are left out")
        XCTAssertEqual(h.writes.map(\.method), ["POST", "POST"])
    }

    func testCreateFromInputWithOverrides() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        try write(
            #"[{"userName":"j1","email":"j1@example.com"},{"userName":"j2","email":"j2@example.com"}]"#,
            to: dir + "/in.json")
        let r = await h.run("import \(dir)/in.json | create active=false displayName=\"Imported\" | count")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "2\n")
        XCTAssertEqual(h.messages, "created 2 users\n")
        for name in ["j1", "j2"] {
            XCTAssertEqual(h.user(name)?["active"], .bool(false))
            XCTAssertEqual(h.user(name)?["displayName"], "Imported")
        }
    }

    func testCreateFailureNamesTheUser() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"create userName=noemail displayName="No Mail""#)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "")
        XCTAssertEqual(
            h.messages,
            """
            error: user noemail: 400 Bad Request [invalidValue]: Attribute 'emails' is required (POST /api/v1/scim/Users)
            created 0 users, 1 failed
            (0 records)

            """)
        XCTAssertNil(h.user("noemail"))
    }

    // MARK: patch

    func testPatchTypedValues() async throws {
        let h = try await makeHarness()
        let r = await h.run(
            #"find userName eq "bjensen" | patch active=false externalId="123" | select userName active externalId"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "userName  active  externalId\n--------  ------  ----------\nbjensen   false   123\n")
        XCTAssertEqual(h.messages, "patched 1 user\n")
        let user = try XCTUnwrap(h.user("bjensen"))
        XCTAssertEqual(user["active"], .bool(false), "active=false is a Boolean")
        XCTAssertEqual(user["externalId"], .string("123"), "externalId=\"123\" stays a string")
        XCTAssertEqual(h.writes.map(\.description), ["PATCH /api/v1/scim/Users/\(Seed.bjensen) -> 200"])
    }

    func testPatchReplaceThenRemove() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find userName eq "bjensen" | patch displayName="B. Jensen" remove externalId | count"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "1\n")
        XCTAssertEqual(h.messages, "patched 1 user\n")
        let user = try XCTUnwrap(h.user("bjensen"))
        XCTAssertEqual(user["displayName"], "B. Jensen")
        XCTAssertNil(user["externalId"])
    }

    func testPatchAddReplaceRemoveWords() async throws {
        let h = try await makeHarness()
        var r = await h.run(
            #"patch \#(Seed.tnguyen) add externalId="T-1" replace displayName="Thanh N." active=true"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.messages, "patched 1 user\n")
        let user = try XCTUnwrap(h.user("tnguyen"))
        XCTAssertEqual(user["externalId"], "T-1")
        XCTAssertEqual(user["displayName"], "Thanh N.")
        XCTAssertEqual(user["active"], .bool(true))
        r = await h.fresh(#"patch \#(Seed.bjensen) remove externalId replace displayName="Babs""#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.messages, "patched 1 user\n")
        XCTAssertNil(h.user("bjensen")?["externalId"])
        XCTAssertEqual(h.user("bjensen")?["displayName"], "Babs", "replace switches back from remove")
    }

    func testPatchById() async throws {
        let h = try await makeHarness()
        let r = await h.run("patch \(Seed.okoval) active=true | select userName active")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "userName  active\n--------  ------\nokoval    true\n")
        XCTAssertEqual(h.user("okoval")?["active"], .bool(true), "patch reaches a deactivated user and reactivates it")
    }

    func testPatchEmail() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find userName eq "bjensen" | patch email=new@example.com | select emails.value"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "emails.value\n---------------\nnew@example.com\n")
        XCTAssertTrue(h.messages.hasSuffix("patched 1 user\n"), h.messages)
        XCTAssertEqual(h.user("bjensen")?.value(atPath: "emails.value"), "new@example.com")
    }

    func testPatchFailureIsReportedAndOthersProceed() async throws {
        let h = try await makeHarness()
        // alice.martin's externalId EMP-1002 is taken for everyone else: a uniqueness conflict (409).
        let r = await h.run(#"find | where userName sw "r" or userName sw "m" | patch externalId="EMP-1002" | count"#)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "0\n")
        // Per-record errors appear as requests finish (any order); the summary comes last.
        let lines = h.messages.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, h.messages)
        XCTAssertEqual(lines.last, "patched 0 users, 2 failed")
        XCTAssertEqual(
            lines.prefix(2).sorted(),
            [
                "error: user mgarcia (\(Seed.mgarcia)): 409 Conflict [uniqueness]: externalId 'EMP-1002' already belongs to another user (PATCH /api/v1/scim/Users/\(Seed.mgarcia))",
                "error: user rkumar (\(Seed.rkumar)): 409 Conflict [uniqueness]: externalId 'EMP-1002' already belongs to another user (PATCH /api/v1/scim/Users/\(Seed.rkumar))",
            ])
        XCTAssertEqual(h.user("rkumar")?["externalId"], "EMP-1003", "unchanged")
    }

    // MARK: delete / deactivate

    func testDeleteFromFind() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find userName eq "bjensen" | delete"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, Self.bjensenTable.replacingOccurrences(of: "true ", with: "false"))
        XCTAssertEqual(h.messages, "deactivated 1 user\n")
        XCTAssertEqual(h.user("bjensen")?["active"], .bool(false))
        XCTAssertEqual(h.writes.map(\.description), ["DELETE /api/v1/scim/Users/\(Seed.bjensen) -> 204"])
        XCTAssertEqual(h.activeUserNames, Array(Seed.activeNames.dropFirst()))
    }

    func testDeactivateByIds() async throws {
        let h = try await makeHarness()
        let r = await h.run("deactivate \(Seed.rkumar) \(Seed.mgarcia) | select userName active")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.messages, "deactivated 2 users\n")
        XCTAssertEqual(h.user("rkumar")?["active"], .bool(false))
        XCTAssertEqual(h.user("mgarcia")?["active"], .bool(false))
        XCTAssertEqual(Set(h.writes.map(\.method)), ["DELETE"])
        XCTAssertEqual(h.writes.count, 2)
    }

    func testDeleteOfAnInactiveUserFails() async throws {
        let h = try await makeHarness()
        let r = await h.run("delete \(Seed.pwhite)")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.contains("404 Not Found"), h.messages)
        XCTAssertTrue(h.messages.contains("deactivated 0 users, 1 failed\n"), h.messages)
        XCTAssertEqual(h.user("pwhite")?["active"], .bool(false))
    }
}
