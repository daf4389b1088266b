import Foundation
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// Cancelling a running pipeline (what Ctrl-C does): it ends promptly, reports what was done, and sends no
/// writes after it returns.
final class InterpreterCancellationTests: InterpreterTestCase {
    /// Waits until `condition` holds (polling), at most `timeout`.
    func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                XCTFail("timed out")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func cancelMidway(_ statement: String, verb: String, changed: @escaping (JSONObject) -> Bool) async throws {
        let h = try await makeHarness(generatedUsers: 400, seedUsers: false) { $0.latency = .milliseconds(20) }
        await h.expectSuccess("set concurrency = 4; set page_size = 50")
        h.server.clearLog()
        let interpreter = h.interpreter
        let task = Task { await interpreter.run(statement) }
        try await waitUntil { h.writes.count >= 12 }
        let cancelledAt = ContinuousClock.now
        task.cancel()
        let result = await task.value
        let elapsed = ContinuousClock.now - cancelledAt
        XCTAssertLessThan(elapsed, .seconds(1), "the run ends promptly")
        XCTAssertEqual(result.status, .cancelled, "an interruption, not a failure (even mid-page):\n\(h.messages)")
        XCTAssertEqual(result.exitCode, 130)

        let writesAtReturn = h.writes.count
        let changedAtReturn = h.server.users().filter(changed).count
        try await Task.sleep(for: .milliseconds(150))
        let writesLater = h.writes.count
        let changedLater = h.server.users().filter(changed).count

        // The summary says how many were done.
        let summary = h.messages.split(separator: "\n").map(String.init).last { $0.hasPrefix("interrupted: ") }
        let line = try XCTUnwrap(summary, "an interrupted summary in:\n\(h.messages)")
        let match = line.wholeMatch(of: /interrupted: \w+ (\d+) users?(, \d+ failed)?/)
        let n = try XCTUnwrap(match.flatMap { Int($0.1) }, line)
        XCTAssertTrue(line.hasPrefix("interrupted: \(verb) "), line)
        XCTAssertGreaterThanOrEqual(n, 8)
        XCTAssertLessThan(n, 400, "cancelled midway")
        XCTAssertFalse(h.messages.contains("error:"), "cancelled requests are not reported as failures:\n\(h.messages)")

        XCTAssertEqual(writesLater, writesAtReturn, "no write reaches the server after the run returned")
        XCTAssertEqual(changedLater, changedAtReturn, "the sandbox does not change after the run returned")
        XCTAssertGreaterThanOrEqual(changedAtReturn, n, "every user counted as \(verb) was \(verb)")
        XCTAssertLessThanOrEqual(changedAtReturn, n + 4, "at most the requests in flight beyond the summary")
        XCTAssertEqual(
            changedAtReturn, n, "the summary counts every request in flight that the server applied:\n\(h.messages)")

        // The journal agrees: every write begun has its outcome; the ok ones are exactly the users changed, and
        // the prepared ones withdrawn while they waited for a connection are `not sent` and unchanged.
        let path = try XCTUnwrap(h.interpreter.journal?.path)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONParser.parse(String($0))
        }
        let last = lines.compactMap { $0["statement_no"]?.numberValue }.max()
        let entries = lines.filter { $0["statement_no"]?.numberValue == last }
        let begun = entries.filter { $0["phase"]?.stringValue == "begin" }.compactMap { $0["id"]?.stringValue }
        let ended = entries.filter { $0["phase"]?.stringValue == "end" }
        XCTAssertEqual(Set(begun), Set(ended.compactMap { $0["id"]?.stringValue }), "no write left unfinished")
        let ok = ended.filter { $0["outcome"]?.stringValue == "ok" }.compactMap { $0["id"]?.stringValue }
        XCTAssertEqual(ok.count, n, "the journal's ok writes are the summary's")
        let notSent = ended.filter { $0["outcome"]?.stringValue == "not sent" }.compactMap { $0["id"]?.stringValue }
        let users = Dictionary(
            uniqueKeysWithValues: h.server.users().compactMap { u in u["id"]?.stringValue.map { ($0, u) } })
        XCTAssertTrue(
            notSent.allSatisfy { users[$0].map(changed) == false }, "withdrawn writes never reached the server")
        XCTAssertEqual(ok.count + notSent.count, ended.count, "nothing failed")

        // The interpreter is usable afterwards.
        h.sink.reset()
        let after = await h.run("echo still alive")
        XCTAssertEqual(after.exitCode, 0)
        XCTAssertEqual(h.data, "still alive\n")
    }

    func testCancelPatchMidway() async throws {
        try await cancelMidway(#"find | patch displayName="X""#, verb: "patched") { $0["displayName"] == "X" }
    }

    func testCancelDeleteMidway() async throws {
        try await cancelMidway("find active eq true | delete", verb: "deactivated") { $0["active"] == .bool(false) }
    }

    func testCancelBeforeStartRunsNothing() async throws {
        let h = try await makeHarness()
        let interpreter = h.interpreter
        let task = Task {
            // Cancel ourselves first, then run.
            withUnsafeCurrentTask { $0?.cancel() }
            return await interpreter.run("find | delete")
        }
        let result = await task.value
        XCTAssertEqual(result.status, .cancelled)
        XCTAssertEqual(h.writes, [])
        XCTAssertEqual(h.activeUserNames, Seed.activeNames)
    }

    func testCancelAReadOnlyListing() async throws {
        let h = try await makeHarness(generatedUsers: 2000, seedUsers: false) { $0.latency = .milliseconds(20) }
        let interpreter = h.interpreter
        let task = Task { await interpreter.run("set page_size = 10; find | count") }
        try await waitUntil { h.log.count >= 3 }
        task.cancel()
        let result = await task.value
        XCTAssertEqual(result.status, .cancelled, h.messages)
        XCTAssertEqual(h.data, "", "count prints nothing when interrupted")
        let requests = h.log.count
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertLessThanOrEqual(h.log.count, requests + 1, "paging stopped")
        XCTAssertLessThan(h.log.count, 200)
    }
}
