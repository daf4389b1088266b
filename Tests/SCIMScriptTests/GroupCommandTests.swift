import Foundation
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// The group commands against the sandbox over loopback: each of ODM's Groups rules as the language shows it,
/// and the safety features (dry run, explain, trace, expect, journal and undo, completion) for groups.
final class GroupCommandTests: InterpreterTestCase {
    static let engineering = "4f1c2a3b-8d7e-4a6f-9b2c-1e0d3f5a7b11"
    static let dataStewards = "6a3e4c5d-0f9a-4c8b-8d4e-3a2f5b7c9d22"

    /// The userNames of a group's members in the sandbox, sorted; `nil` when no group has that name.
    func members(_ h: InterpreterHarness, _ group: String) -> [String]? {
        guard let g = h.server.sandbox.groups().first(where: { $0["displayName"]?.stringValue == group }) else {
            return nil
        }
        let ids = (g["members"]?.arrayValue ?? []).compactMap { $0["value"]?.stringValue }
        let users = h.server.users()
        return ids.map { id in users.first { $0["id"]?.stringValue == id }?["userName"]?.stringValue ?? id }.sorted()
    }

    var groupNames: (InterpreterHarness) -> [String] {
        { h in h.server.sandbox.groups().compactMap { $0["displayName"]?.stringValue } }
    }

    // MARK: Reading

    func testGroupsListsFiltersAndShowsTheGroupsOfAUser() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("set output = csv; groups | select displayName")
        XCTAssertEqual(h.data, "displayName\nEngineering\nData Stewards\nCurators\n")
        h.reset()
        await h.expectSuccess(#"groups displayName eq "Curators" | select displayName"#)
        XCTAssertEqual(h.data, "displayName\nCurators\n")
        XCTAssertEqual(h.requests("GET").count, 1)
        XCTAssertTrue(h.log[0].uri.contains("filter=displayName"), h.log[0].uri)
        h.reset()
        await h.expectSuccess(#"find userName eq "rkumar" | groups | select displayName"#)
        XCTAssertEqual(h.data, "displayName\nEngineering\nData Stewards\n")
    }

    /// ODM's excludedAttributes takes `members` only: `--no-members` asks for that and the groups come without.
    func testGroupsWithoutMembers() async throws {
        let h = try await makeHarness()
        h.reset()
        await h.expectSuccess("set output = json; groups --no-members")
        XCTAssertTrue(h.log[0].uri.contains("excludedAttributes=members"), h.log[0].uri)
        let groups = try XCTUnwrap(JSONParser.parse(h.data).arrayValue)
        XCTAssertEqual(groups.count, 3)
        XCTAssertTrue(groups.allSatisfy { $0["members"] == nil }, h.data)
        h.reset()
        await h.expectSuccess("set output = table; groups --no-members --limit 1")
        XCTAssertTrue(
            h.data.hasPrefix("id                                    displayName  externalId  members\n"), h.data)
    }

    func testGroupsTableShowsTheMembersNames() async throws {
        let h = try await makeHarness()
        await h.expectSuccess(#"groups displayName eq "Curators""#)
        XCTAssertTrue(h.data.hasPrefix("id "), h.data)
        XCTAssertTrue(h.data.contains("Alice Martin, María García"), h.data)
    }

    /// ODM filters groups with displayName eq only: anything else is refused before a request, with the way round.
    func testODMDialectRefusesOtherGroupFiltersBeforeSending() async throws {
        let h = try await makeHarness()
        h.reset()
        let r = await h.run(#"groups displayName sw "Data""#)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.contains(#"ODM filters groups only with displayName eq "…""#), h.messages)
        XCTAssertTrue(h.messages.contains(#"groups | where displayName sw "Data""#), h.messages)
        XCTAssertEqual(h.log, [], "refused before sending")
        h.reset()
        await h.expectSuccess(#"groups | where displayName sw "Data" | select displayName"#)
        XCTAssertTrue(h.data.contains("Data Stewards"), h.data)
        h.reset()
        let status = await h.exitCode(#"groups externalId eq "GRP-ENG""#)
        XCTAssertEqual(status, 1)
        XCTAssertEqual(h.log, [])
    }

    /// ODM refuses members on create (400): refused before sending, with the way round.
    func testODMDialectRefusesMembersOnCreate() async throws {
        let h = try await makeHarness()
        h.reset()
        let r = await h.run("create-group Temp members=\(Seed.bjensen)")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.contains("ODM refuses members when a group is created"), h.messages)
        XCTAssertTrue(h.messages.contains("add-to"), h.messages)
        XCTAssertEqual(h.log, [])
    }

    func testMembersAreUserRecordsThatUserCommandsChange() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("members Engineering | patch active=false | count | csv")
        XCTAssertEqual(h.data, "count\n3\n")
        for name in ["rkumar", "tnguyen", "svc-pipeline"] {
            XCTAssertEqual(h.user(name)?["active"], .bool(false), name)
        }
        // ODM keeps the memberships of deactivated users.
        XCTAssertEqual(members(h, "Engineering"), ["rkumar", "svc-pipeline", "tnguyen"])
    }

    /// A deactivated member (ODM hides it from GET) still comes, as its id and name, with a warning.
    func testADeactivatedMemberComesAsAReference() async throws {
        let h = try await makeHarness()
        await h.expectSuccess(#"set output = csv; members "Data Stewards" | select id"#)
        XCTAssertTrue(h.data.contains(Seed.okoval), h.data)
        XCTAssertEqual(h.data.split(separator: "\n").count, 5, h.data)
        XCTAssertTrue(h.messages.contains("1 member could not be read"), h.messages)
    }

    /// ODM does not keep names unique: a name two groups share is an error naming their ids.
    func testTwoGroupsOfTheSameNameAskForAnId() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("create-group Engineering")
        XCTAssertEqual(groupNames(h).filter { $0 == "Engineering" }.count, 2, "ODM does not check uniqueness")
        h.reset()
        let status = await h.exitCode("members Engineering")
        XCTAssertEqual(status, 1)
        XCTAssertTrue(h.messages.contains(#"2 groups are named "Engineering""#), h.messages)
        XCTAssertTrue(h.messages.contains(Self.engineering), h.messages)
        h.reset()
        await h.expectSuccess("members \(Self.engineering) | count | csv")
        XCTAssertEqual(h.data, "count\n3\n")
    }

    /// A plain member sees only its groups and may not delete one (403); nothing changes.
    func testAPlainMemberCannotDeleteAGroup() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("set token = \(SandboxConfiguration.defaultLimitedToken)")
        await h.expectSuccess("set output = csv; groups | select displayName")
        XCTAssertEqual(h.data, "displayName\nEngineering\n", "tnguyen is in Engineering only")
        h.reset()
        let status = await h.exitCode("delete-group Engineering")
        XCTAssertEqual(status, 1)
        XCTAssertTrue(h.messages.contains("403"), h.messages)
        XCTAssertEqual(members(h, "Engineering"), ["rkumar", "svc-pipeline", "tnguyen"])
    }

    /// A plain user who is the group's "Group admin" (rkumar in Engineering) may change it, by ids (the Users API
    /// needs "Manage organization", which it lacks); in another group it is a plain member and gets 403.
    func testAGroupAdminChangesItsGroupOnly() async throws {
        let h = try await makeHarness()
        let token = try XCTUnwrap(SandboxConfiguration.defaultUserTokens.first { $0.value == Seed.rkumar }?.key)
        await h.expectSuccess("set token = \(token)")
        await h.expectSuccess("add-to Engineering \(Seed.bjensen)")
        XCTAssertEqual(members(h, "Engineering"), ["bjensen", "rkumar", "svc-pipeline", "tnguyen"])
        await h.expectSuccess(#"rename-group Engineering "Platform Engineering""#)
        XCTAssertNotNil(members(h, "Platform Engineering"))
        h.reset()
        let status = await h.exitCode(#"add-to "Data Stewards" \#(Seed.tnguyen)"#)
        XCTAssertEqual(status, 1)
        XCTAssertTrue(h.messages.contains("403"), h.messages)
        XCTAssertEqual(members(h, "Data Stewards"), ["bjensen", "mgarcia", "okoval", "rkumar"])
    }

    // MARK: Writing, exactly once, and undo

    func testCreateRenameDeleteAndUndoEachStep() async throws {
        let h = try await makeHarness()
        await h.expectSuccess(#"create-group "Data Science" externalId=GRP-DS"#)
        XCTAssertTrue(h.messages.contains("created 1 group"), h.messages)
        XCTAssertEqual(members(h, "Data Science"), ["alice.martin"], "the creator is its admin")
        await h.expectSuccess(#"find userName eq "bjensen" | add-to "Data Science""#)
        await h.expectSuccess(#"rename-group "Data Science" "ML Platform""#)
        XCTAssertNil(members(h, "Data Science"))
        XCTAssertEqual(members(h, "ML Platform"), ["alice.martin", "bjensen"])
        await h.expectSuccess(#"delete-group "ML Platform""#)
        XCTAssertNil(members(h, "ML Platform"))
        XCTAssertNotNil(h.user("bjensen"), "members stay")

        h.reset()
        await h.expectSuccess("undo")
        XCTAssertEqual(members(h, "ML Platform"), ["alice.martin", "bjensen"], "created again with its members")
        XCTAssertTrue(h.messages.contains("with a new id"), h.messages)
        let group = h.server.sandbox.groups().first { $0["displayName"]?.stringValue == "ML Platform" }
        XCTAssertEqual(group?["externalId"], "GRP-DS")
        XCTAssertTrue(h.messages.contains("reverted 1 group"), h.messages)
        h.reset()
        await h.expectSuccess("undo 3")
        XCTAssertEqual(members(h, "Data Science"), ["alice.martin", "bjensen"], "the rename undone")
        XCTAssertTrue(h.messages.contains("reverted 1 group"), h.messages)
        h.reset()
        await h.expectSuccess("undo 2")
        XCTAssertEqual(members(h, "Data Science"), ["alice.martin"], "the add undone")
        XCTAssertTrue(h.messages.contains("reverted 1 membership\n"), h.messages)
        await h.expectSuccess("undo 1")
        XCTAssertEqual(groupNames(h), ["Engineering", "Data Stewards", "Curators"], "the create undone")
    }

    /// A user named twice (by id and by userName) is added once; one already in the group gets no request.
    func testAddToIsExactlyOncePerUserAndGroup() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        try write("id,userName\n\(Seed.bjensen),\n,bjensen\n,mgarcia\n\(Seed.rkumar),rkumar\n", to: dir + "/m.csv")
        h.reset()
        await h.expectSuccess("import \(dir)/m.csv | add-to Engineering | count | csv")
        XCTAssertEqual(h.data, "count\n3\n", "each user passed on once")
        XCTAssertEqual(h.requests("PATCH").count, 2, "bjensen once, mgarcia once, rkumar is a member already")
        XCTAssertTrue(h.messages.contains("added 2 memberships"), h.messages)
        XCTAssertEqual(members(h, "Engineering"), ["bjensen", "mgarcia", "rkumar", "svc-pipeline", "tnguyen"])
        h.reset()
        await h.expectSuccess("add-to Curators \(Seed.tnguyen) \(Seed.tnguyen)")
        XCTAssertEqual(h.requests("PATCH").count, 1)
        XCTAssertEqual(members(h, "Curators"), ["alice.martin", "mgarcia", "tnguyen"])
    }

    /// Offboarding: out of every group, then deactivated once; undo puts both back.
    func testRemoveFromAllThenDeactivateAndUndo() async throws {
        let h = try await makeHarness()
        h.reset()
        await h.expectSuccess(#"find userName eq "rkumar" | remove-from --all | deactivate"#)
        XCTAssertEqual(h.requests("PATCH").count, 2, "Engineering and Data Stewards")
        XCTAssertEqual(h.requests("DELETE").count, 1, "deactivated once, not once per group")
        XCTAssertEqual(members(h, "Engineering"), ["svc-pipeline", "tnguyen"])
        XCTAssertEqual(members(h, "Data Stewards"), ["bjensen", "mgarcia", "okoval"])
        XCTAssertEqual(h.user("rkumar")?["active"], .bool(false))
        h.reset()
        await h.expectSuccess("undo")
        XCTAssertEqual(h.user("rkumar")?["active"], .bool(true))
        XCTAssertEqual(members(h, "Engineering"), ["rkumar", "svc-pipeline", "tnguyen"])
        XCTAssertEqual(members(h, "Data Stewards"), ["bjensen", "mgarcia", "okoval", "rkumar"])
        // Undo is journaled too: undoing it takes rkumar out again.
        await h.expectSuccess("undo")
        XCTAssertEqual(members(h, "Engineering"), ["svc-pipeline", "tnguyen"])
    }

    /// A user in no group still reaches the stages after remove-from --all.
    func testRemoveFromAllPassesOnUsersInNoGroup() async throws {
        let h = try await makeHarness()
        h.reset()
        await h.expectSuccess(
            #"create userName=nogroups displayName="No Groups" email=nogroups@example.org | remove-from --all | deactivate"#
        )
        XCTAssertEqual(h.user("nogroups")?["active"], .bool(false))
        XCTAssertEqual(h.requests("PATCH").count, 0)
    }

    func testSetMembersMirrorsAndUndoes() async throws {
        let h = try await makeHarness()
        let csv = Fixtures.packageRoot + "/examples/data/memberships.csv"
        h.reset()
        await h.expectSuccess("import \(csv) | set-members")
        XCTAssertEqual(members(h, "Engineering"), ["bjensen", "rkumar", "tnguyen"])
        XCTAssertEqual(members(h, "Curators"), ["alice.martin", "mgarcia", "rkumar"])
        XCTAssertEqual(members(h, "Data Stewards"), ["bjensen", "mgarcia", "okoval", "rkumar"], "not named: alone")
        XCTAssertEqual(h.requests("PATCH").count, 3)
        h.reset()
        await h.expectSuccess("import \(csv) | set-members")
        XCTAssertEqual(h.writes, [], "a second run finds nothing to do")
        await h.expectSuccess("undo 1")
        XCTAssertEqual(members(h, "Engineering"), ["rkumar", "svc-pipeline", "tnguyen"])
        XCTAssertEqual(members(h, "Curators"), ["alice.martin", "mgarcia"])
    }

    // MARK: Safety

    func testDryRunSendsNoWriteAndShowsThePlan() async throws {
        let h = try await makeHarness()
        let csv = Fixtures.packageRoot + "/examples/data/memberships.csv"
        h.reset()
        await h.expectSuccess(
            """
            set dry_run = on
            find userName eq "bjensen" | add-to Engineering
            find userName eq "rkumar" | remove-from --all
            create-group Temp
            rename-group Curators "Data Curators"
            delete-group Curators
            import \(csv) | set-members
            """)
        XCTAssertEqual(h.log.filter { $0.method != "GET" }.map(\.uri), [], "a dry run sends only GETs")
        let m = h.messages
        XCTAssertTrue(
            m.contains("would add-to user bjensen (\(Seed.bjensen)) in group Engineering: member: false → true"), m)
        XCTAssertTrue(m.contains("dry run: would have removed 2 memberships"), m)
        XCTAssertTrue(m.contains("dry run: would have created 1 group"), m)
        XCTAssertTrue(m.contains(#"group: "Curators" → "Data Curators""#), m)
        XCTAssertTrue(m.contains("dry run: would have deleted 1 group"), m)
        XCTAssertTrue(m.contains("would set-members user svc-pipeline"), m)
        XCTAssertEqual(members(h, "Engineering"), ["rkumar", "svc-pipeline", "tnguyen"])
        XCTAssertEqual(groupNames(h), ["Engineering", "Data Stewards", "Curators"])
    }

    func testConfirmationPlanAtThePrompt() async throws {
        let h = try await makeHarness(interactive: true)
        let asked = LockedValue<[String]>([])
        h.interpreter.setConfirmer { question in
            asked.withLock { $0.append(question) }
            return false
        }
        h.reset()
        await h.run("members Engineering | remove-from Engineering")
        XCTAssertEqual(asked.withLock { $0 }, ["apply to 3 memberships? [y/N] "])
        XCTAssertTrue(h.messages.contains("remove-from 3 memberships:"), h.messages)
        XCTAssertTrue(h.messages.contains("in group Engineering: member: true → false"), h.messages)
        XCTAssertEqual(h.writes, [])
    }

    func testExpectStopsBeforeAnyMembershipChange() async throws {
        let h = try await makeHarness()
        h.reset()
        let status = await h.exitCode("members Engineering | expect == 2 | remove-from Engineering")
        XCTAssertEqual(status, 1)
        XCTAssertEqual(h.writes, [])
        XCTAssertEqual(members(h, "Engineering"), ["rkumar", "svc-pipeline", "tnguyen"])
    }

    func testExplainShowsTheGroupRequestsAndSendsNothing() async throws {
        let h = try await makeHarness()
        h.reset()
        await h.expectSuccess(#"explain find userName eq "bjensen" | add-to Engineering"#)
        let out = h.data
        XCTAssertTrue(out.contains("2. add-to (sends writes)"), out)
        XCTAssertTrue(out.contains("GET http://127.0.0.1:\(h.server.port)/api/v1/scim/Groups?filter="), out)
        XCTAssertTrue(out.contains("PATCH http://127.0.0.1:\(h.server.port)/api/v1/scim/Groups/{id}"), out)
        XCTAssertTrue(out.contains(#""path" : "members""#) || out.contains(#""path": "members""#), out)
        XCTAssertEqual(h.log, [])
        h.reset()
        await h.expectSuccess(#"explain groups displayName eq "Curators""#)
        XCTAssertTrue(h.data.contains("/Groups?filter=displayName%20eq%20%22Curators%22"), h.data)
    }

    func testTraceAsCurlShowsGroupRequestsWithoutTheToken() async throws {
        let h = try await makeHarness()
        h.reset()
        await h.expectSuccess("set trace = curl; find userName eq \"bjensen\" | add-to Curators")
        XCTAssertTrue(h.messages.contains("curl"), h.messages)
        XCTAssertTrue(h.messages.contains("-X PATCH"), h.messages)
        XCTAssertTrue(h.messages.contains("/Groups/8c5a6e7f-2b1c-4e0d-af6a-5c4b7d9e1f33"), h.messages)
        XCTAssertFalse(h.messages.contains(SandboxConfiguration.defaultAdminToken))
    }

    func testJournalKeepsTheMembership() async throws {
        let h = try await makeHarness()
        await h.expectSuccess(#"find userName eq "bjensen" | add-to Engineering"#)
        h.reset()
        await h.expectSuccess("set output = json; journal 1")
        let rows = try XCTUnwrap(JSONParser.parse(h.data).arrayValue)
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0]["op"], "add-to")
        XCTAssertEqual(rows[0]["before"]?["member"], .bool(false))
        XCTAssertEqual(rows[0]["after"]?["member"], .bool(true))
        XCTAssertEqual(rows[0]["after"]?["groupId"], .string(Self.engineering))
    }

    func testGroupNamesSeenAreCompleted() async throws {
        let h = try await makeHarness(interactive: true)
        await h.expectSuccess("groups | count")
        XCTAssertEqual(h.interpreter.seen.groupNames, ["Engineering", "Data Stewards", "Curators"])
        let context = CompletionContext(knownIds: [Seed.bjensen])
        var c = context
        c.knownGroupNames = h.interpreter.seen.groupNames
        XCTAssertEqual(Completer.complete(line: "members Cu", cursor: 10, context: c).candidates, ["Curators"])
        XCTAssertEqual(
            Completer.complete(line: "find | add-to Da", cursor: 16, context: c).candidates, [#""Data Stewards""#])
        XCTAssertEqual(
            Completer.complete(line: "add-to Curators 28", cursor: 18, context: c).candidates, [Seed.bjensen])
    }
}
