import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// Completion values from the server (issue 17): what the word at the cursor wants, and the one bounded lookup.
final class ServerValueLookupTests: InterpreterTestCase {
    func want(_ line: String) -> ServerValueLookup.Want? {
        let result = Completer.complete(line: line, cursor: line.utf8.count, context: CompletionContext())
        return ServerValueLookup.want(line: line, result: result)
    }

    func testWhatTheCursorWants() {
        XCTAssertEqual(want(#"find userName eq "al"#), .userName(prefix: "al"))
        XCTAssertEqual(want(#"find active eq true and USERNAME eq ""#), .userName(prefix: ""))
        XCTAssertEqual(want("get 7e2"), .id(prefix: "7e2"))
        XCTAssertEqual(want("delete "), .id(prefix: ""))
        XCTAssertNil(want("find | delete "), "ids and input together are an error")
        XCTAssertNil(want(#"find displayName eq "Al"#))
        XCTAssertNil(want("find userName"))
        XCTAssertNil(want("fi"))
    }

    /// ODM has no `sw`: one page without a filter, once per server, whatever is typed.
    func testODMAsksForOnePageOnce() async throws {
        let h = try await makeHarness()
        let lookup = ServerValueLookup(limit: 50)
        XCTAssertTrue(lookup.lookUp(.userName(prefix: "al"), interpreter: h.interpreter))
        XCTAssertTrue(h.interpreter.seen.userNames.contains("alice.martin"))
        XCTAssertTrue(h.interpreter.seen.ids.contains("7e2f9a14-6c3d-4b8e-a1f0-3c5d7e9b2a02"))
        XCTAssertFalse(lookup.lookUp(.id(prefix: "7e"), interpreter: h.interpreter), "asked twice")
        XCTAssertEqual(h.log.map(\.description), ["GET /api/v1/scim/Users?startIndex=1&count=50 -> 200"])
    }

    /// Under the RFC dialect the server filters: `userName sw "<typed>"`, once per prefix.
    func testRFCAsksUserNameStartsWith() async throws {
        let users = ["alice", "alfred", "bob"].map { name in
            JSONObject([
                ("schemas", .array([.string("urn:ietf:params:scim:schemas:core:2.0:User")])),
                ("userName", .string(name)),
            ])
        }
        let (h, _) = try await makeScim2Harness(users: users)
        let lookup = ServerValueLookup(timeout: .seconds(5))
        XCTAssertTrue(lookup.lookUp(.userName(prefix: "al"), interpreter: h.interpreter))
        XCTAssertEqual(h.interpreter.seen.userNames.sorted(), ["alfred", "alice"])
    }

    /// A server slower than the timeout gives nothing, and the Tab returns after the timeout.
    func testASlowServerGivesNothingInTime() async throws {
        let h = try await makeHarness { $0.latency = .seconds(2) }
        let lookup = ServerValueLookup(timeout: .milliseconds(200))
        let clock = ContinuousClock()
        let start = clock.now
        XCTAssertFalse(lookup.lookUp(.id(prefix: ""), interpreter: h.interpreter))
        XCTAssertLessThan(clock.now - start, .seconds(1))
        XCTAssertTrue(h.interpreter.seen.ids.isEmpty)
        // Still running: the next Tab does not start a second lookup.
        XCTAssertFalse(lookup.lookUp(.id(prefix: ""), interpreter: h.interpreter))
    }

    /// A refused lookup (the sandbox answers 400 to `sw`) is silent too.
    func testARefusedLookupIsSilent() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("set dialect = rfc")
        let lookup = ServerValueLookup()
        XCTAssertFalse(lookup.lookUp(.userName(prefix: "al"), interpreter: h.interpreter))
        XCTAssertEqual(h.messages, "")
        XCTAssertTrue(h.log.first?.description.contains("filter=userName%20sw%20%22al%22") ?? false, "\(h.log)")
    }

    /// Operators follow the dialect in a filter the server runs (`find`), not in one run here (`where`).
    func testOperatorsFollowTheDialect() {
        var odm = CompletionContext()
        odm.dialect = .odm
        func candidates(_ line: String, _ context: CompletionContext) -> [String] {
            Completer.complete(line: line, cursor: line.utf8.count, context: context).candidates
        }
        let all = ["co", "eq", "ew", "ge", "gt", "le", "lt", "ne", "pr", "sw"]
        XCTAssertEqual(candidates("find userName ", odm), ["eq"])
        XCTAssertEqual(candidates(#"find userName eq "a" "#, odm), ["and"])
        XCTAssertFalse(candidates("find ", odm).contains("not"))
        XCTAssertEqual(candidates("find | where userName ", odm), all)
        XCTAssertEqual(candidates(#"find | where userName eq "a" "#, odm), ["and", "or"])
        XCTAssertEqual(candidates("find userName ", CompletionContext()), all)
        XCTAssertEqual(candidates(#"find userName eq "a" "#, CompletionContext()), ["and", "or"])
    }
}
