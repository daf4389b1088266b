import Foundation
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// "Nothing skipped": a pipeline that changes the very listing its `find` pages through still reaches every
/// matched user exactly once, whatever the concurrency, and a mutating stage keeps the input order.
final class InterpreterPagingTests: InterpreterTestCase {
    static let userCount = 250

    /// The generated users' names in creation order.
    static var generatedNames: [String] { (1...userCount).map { String(format: "user%05d", $0) } }

    /// Requests per user id for one method.
    func countsPerId(_ h: InterpreterHarness, method: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for r in h.requests(method) {
            let id = String(r.uri.split(separator: "/").last ?? "")
            counts[id, default: 0] += 1
        }
        return counts
    }

    func deactivateAll(concurrency: Int, latency: Duration = .zero) async throws {
        let h = try await makeHarness(generatedUsers: Self.userCount, seedUsers: false) { $0.latency = latency }
        let activeBefore = h.activeUserNames.count
        XCTAssertEqual(activeBefore, Self.userCount)
        let r = await h.run(
            "set page_size = 100; set concurrency = \(concurrency)\nfind active eq true | delete | select userName | csv"
        )
        let skipped = h.activeUserNames
        XCTAssertEqual(
            Array(skipped.prefix(5)), [],
            "find active eq true | delete at concurrency \(concurrency) skipped \(skipped.count) users")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.messages, "deactivated \(Self.userCount) users\n")
        XCTAssertEqual(h.activeUserNames, [], "every matched user was deactivated")
        let deletes = h.requests("DELETE")
        XCTAssertEqual(deletes.count, activeBefore, "one DELETE per active user, none repeated")
        XCTAssertTrue(deletes.allSatisfy { $0.status == 204 }, "no DELETE hit an already deactivated user")
        let perId = countsPerId(h, method: "DELETE")
        XCTAssertEqual(perId.count, Self.userCount)
        XCTAssertEqual(Set(perId.values), [1])
        let printed = h.data.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").dropFirst().map(
            String.init)
        XCTAssertEqual(
            printed.sorted(), Self.generatedNames,
            "every deactivated user is passed on once; missing: \(Set(Self.generatedNames).subtracting(printed).sorted())"
        )
        XCTAssertEqual(printed, Self.generatedNames, "output in the order find listed them")
    }

    func testFindActiveDeleteReachesEveryUserOnce() async throws {
        try await deactivateAll(concurrency: 8)
    }

    func testFindActiveDeleteAtConcurrency1() async throws {
        try await deactivateAll(concurrency: 1)
    }

    func testFindActiveDeleteAtConcurrency32() async throws {
        try await deactivateAll(concurrency: 32)
    }

    /// With latency, writes are still in flight when each next page is requested, so every request starts early
    /// and asks for more than a page.
    func testFindActiveDeleteAtConcurrency8WithLatency() async throws {
        try await deactivateAll(concurrency: 8, latency: .milliseconds(2))
    }

    func testFindActiveDeleteAtConcurrency32WithLatency() async throws {
        try await deactivateAll(concurrency: 32, latency: .milliseconds(2))
    }

    func patchAll(concurrency: Int) async throws {
        let h = try await makeHarness(generatedUsers: Self.userCount, seedUsers: false)
        let r = await h.run(
            #"set page_size = 100; set concurrency = \#(concurrency)"# + "\n"
                + #"find | patch displayName="X" | select userName displayName | csv"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.messages, "patched \(Self.userCount) users\n")
        let users = h.server.users()
        XCTAssertEqual(users.count, Self.userCount)
        XCTAssertTrue(users.allSatisfy { $0["displayName"] == "X" }, "every user patched")
        let perId = countsPerId(h, method: "PATCH")
        XCTAssertEqual(perId.count, Self.userCount, "every user patched")
        XCTAssertEqual(Set(perId.values), [1], "each exactly once")
        XCTAssertEqual(h.writes.count, Self.userCount)
        XCTAssertEqual(
            h.data.replacingOccurrences(of: "\r\n", with: "\n"),
            "userName,displayName\n" + Self.generatedNames.map { "\($0),X" }.joined(separator: "\n") + "\n",
            "output in input order")
    }

    /// A write that could move users but moves nobody costs no repeated pages: each request asks for the early
    /// start on top of a page, so 250 users take 3 list requests (4 at most, depending on which writes had
    /// finished), not a request of repeats and a drain per page (5). (`active` is what ODM's listing tests, so
    /// a patch of it pages the careful way even when the value stays.)
    func testFindPatchListsEachPageWithOneRequest() async throws {
        let h = try await makeHarness(generatedUsers: Self.userCount, seedUsers: false)
        await h.expectSuccess(#"set page_size = 100; set concurrency = 8; find | patch active=true | count"#)
        let gets = h.requests("GET")
        XCTAssertLessThanOrEqual(gets.count, 4, gets.map(\.uri).joined(separator: "\n"))
        XCTAssertEqual(Set(countsPerId(h, method: "PATCH").values), [1])
        XCTAssertEqual(countsPerId(h, method: "PATCH").count, Self.userCount)
        XCTAssertTrue(gets.count > 1 && !gets[1].uri.hasSuffix("&count=100"), "the second request asks for more")
    }

    /// A write that changes neither `active` nor what the filter tests cannot move anyone out of the listing:
    /// `find` then pages plainly, one request per page of `page_size` and nothing past the end, and asks for
    /// each next page ahead, like a listing with no write after it.
    func testWritesThatMoveNobodyPagePlainly() async throws {
        // The sandbox drops filter clauses it does not support (sw) and scimsh filters locally, so the filter
        // can test displayName and still match every generated user.
        let h = try await makeHarness(generatedUsers: Self.userCount, seedUsers: false) {
            $0.ignoreUnsupportedFilterClauses = true
        }
        func listRequests(_ statement: String) async -> [String] {
            h.server.clearLog()
            await h.expectSuccess("set page_size = 100; set dialect = rfc; set concurrency = 8; " + statement)
            XCTAssertEqual(Set(countsPerId(h, method: "PATCH").values), [1], statement)
            XCTAssertEqual(countsPerId(h, method: "PATCH").count, Self.userCount, statement)
            return h.requests("GET").map(\.uri)
        }
        for statement in [
            #"find | patch displayName="X" | count"#,
            #"find active eq true | patch title="Y" email="a@example.org" | count"#,
            #"find displayName sw "X" | patch title="Z" | count"#,
        ] {
            let gets = await listRequests(statement)
            XCTAssertEqual(gets.count, 3, statement + "\n" + gets.joined(separator: "\n"))
            XCTAssertTrue(
                gets.allSatisfy { $0.hasSuffix("count=100") }, statement + "\n" + gets.joined(separator: "\n"))
        }
        // A write to what the filter tests, or to `active`, or to a path that could be anything: careful paging.
        for statement in [
            #"find displayName sw "X" | patch displayName="X2" | count"#,
            #"find | patch urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department="D" | count"#,
            #"find | patch active=true | count"#,
            #"find meta.lastModified gt "2000-01-01T00:00:00Z" | patch displayName="M" | count"#,
        ] {
            let gets = await listRequests(statement)
            XCTAssertFalse(
                gets.allSatisfy { $0.hasSuffix("count=100") }, statement + "\n" + gets.joined(separator: "\n"))
        }
    }

    func testFindPatchReachesEveryUserOnceAtConcurrency1() async throws {
        try await patchAll(concurrency: 1)
    }

    func testFindPatchReachesEveryUserOnceAtConcurrency32() async throws {
        try await patchAll(concurrency: 32)
    }

    /// A write that removes only some users from the listing (a `where` between find and delete).
    func testFindWhereDeleteDeactivatesExactlyTheMatches() async throws {
        let h = try await makeHarness(generatedUsers: Self.userCount, seedUsers: false)
        let r = await h.run(
            #"set page_size = 100; set concurrency = 16; find | where userName ew "0" or userName ew "7" | delete | count"#
        )
        let expected = Self.generatedNames.filter { $0.hasSuffix("0") || $0.hasSuffix("7") }
        let missed = Set(expected).intersection(h.activeUserNames)
        XCTAssertEqual(
            Array(missed.sorted().prefix(5)), [], "find | where ... | delete skipped \(missed.count) matching users")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        _ = Self.generatedNames.filter { $0.hasSuffix("0") || $0.hasSuffix("7") }
        XCTAssertEqual(h.data, "\(expected.count)\n")
        XCTAssertEqual(h.messages, "deactivated \(expected.count) users\n")
        XCTAssertEqual(h.requests("DELETE").count, expected.count)
        XCTAssertEqual(
            Set(h.activeUserNames), Set(Self.generatedNames).subtracting(expected), "exactly the matches, once each")
        XCTAssertEqual(Set(countsPerId(h, method: "DELETE").values), [1])
    }

    /// Deleting through `first N` stops the listing: exactly N writes, no more pages.
    func testFindFirstDeleteStopsAtN() async throws {
        let h = try await makeHarness(generatedUsers: Self.userCount, seedUsers: false)
        let r = await h.run("set page_size = 100; find | first 5 | delete | count")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "5\n")
        XCTAssertEqual(h.requests("DELETE").count, 5)
        XCTAssertEqual(h.activeUserNames.count, Self.userCount - 5)
        XCTAssertEqual(Array(h.activeUserNames.prefix(1)), ["user00006"])
    }

    /// Asking for the next page ahead (while the last users of a page are passed on) still requests every page
    /// once, in order, and nothing past the end; a `first` that ends early in the first page sends one request.
    func testPlainListingRequestsEachPageOnceAndNothingPastTheEnd() async throws {
        let h = try await makeHarness(generatedUsers: Self.userCount, seedUsers: false)
        await h.expectSuccess("set page_size = 100; find | select userName | csv")
        XCTAssertEqual(
            h.data.replacingOccurrences(of: "\r\n", with: "\n"),
            "userName\n" + Self.generatedNames.joined(separator: "\n") + "\n")
        XCTAssertEqual(
            h.requests("GET").map(\.uri), (0..<3).map { "/api/v1/scim/Users?startIndex=\($0 * 100 + 1)&count=100" })
        let first = try await makeHarness(generatedUsers: Self.userCount, seedUsers: false)
        await first.expectSuccess("set page_size = 100; find | first 3 | count")
        XCTAssertEqual(first.requests("GET").count, 1)
    }

    /// Mutating stages keep the input order even when later records finish first.
    func testMutatingStageKeepsInputOrderWithSort() async throws {
        let h = try await makeHarness(generatedUsers: 40, seedUsers: false)
        let r = await h.run(
            #"set concurrency = 32; find | sort userName desc | patch displayName="Y" | select userName | jsonl"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        let expected = (1...40).reversed().map { String(format: #"{"userName":"user%05d"}"#, $0) }
        XCTAssertEqual(h.data, expected.joined(separator: "\n") + "\n")
    }

    /// Failures in the middle of a bulk change: reported, the rest proceed, the statement fails and the script
    /// stops there.
    func testBulkChangeWithSomeFailures() async throws {
        let h = try await makeHarness(generatedUsers: 30, seedUsers: false)
        await h.expectSuccess(#"find userName eq "user00010" | patch externalId="TAKEN""#)
        // user00010 already has TAKEN (succeeds again); the two others conflict with it (409).
        let r = await h.fresh(
            #"set concurrency = 4; find | where userName eq "user00003" or userName eq "user00010" or userName eq "user00020" | patch externalId="TAKEN" | select userName"#
                + "\nfind | patch displayName=\"Z\" | count")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "userName\n---------\nuser00010\n", "the successful one is passed on")
        // Per-record errors appear as requests finish (any order); the summary comes last.
        let lines = h.messages.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, h.messages)
        guard lines.count == 3 else { return }
        let errors = lines.prefix(2).sorted()
        XCTAssertEqual(
            errors,
            [
                "error: user user00003 (00000000-0000-4000-8000-000000000003): 409 Conflict [uniqueness]: externalId 'TAKEN' already belongs to another user (PATCH /api/v1/scim/Users/00000000-0000-4000-8000-000000000003)",
                "error: user user00020 (00000000-0000-4000-8000-000000000020): 409 Conflict [uniqueness]: externalId 'TAKEN' already belongs to another user (PATCH /api/v1/scim/Users/00000000-0000-4000-8000-000000000020)",
            ])
        XCTAssertEqual(lines[2], "patched 1 user, 2 failed")
        XCTAssertEqual(h.requests("PATCH").count, 3, "the script stopped before the second statement")
    }
}
