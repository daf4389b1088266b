import Foundation
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// The progress line of a long write (issue 17): at a terminal `patched 120/306 users · 40/s · 5 s left`, redrawn in
/// place, then one summary; nothing of it when stderr is not a terminal.
final class ProgressLineTests: XCTestCase {
    private var home = ""

    override func setUpWithError() throws {
        home = try E2E.freshHome(for: self)
    }

    func testALongPatchShowsDoneTotalRateAndTimeLeftThenOneSummary() async throws {
        try TmuxSession.require()
        // 300 generated users and the 6 active seed users, 20 ms a request, two at a time: about 3 seconds.
        let server = try await Fixtures.sandbox(generatedUsers: 300) { $0.latency = .milliseconds(20) }
        addTeardownBlock { await server.stop() }
        let tmux = try E2E.terminal(
            ["--host", E2E.hostURL(server)], home: home, environment: E2E.tokenEnvironment(server))
        addTeardownBlock { tmux.kill() }
        let prompt = "scimsh \(server.host):\(server.port)> "
        try await E2E.waitForLastLine(tmux, prompt, timeout: .seconds(15))
        try tmux.sendLine("set concurrency = 2; set confirm_above = 100000")
        try await E2E.waitForLastLine(tmux, prompt)
        try tmux.sendLine(#"find | patch displayName="x" | count"#)
        let line = try Regex(#"patched (\d+)/306 users · \d+/s · \d+ s left"#)
        let during = try await tmux.waitUntil("the progress line", timeout: .seconds(20)) { screen in
            screen.contains(line)
        }
        let done = try XCTUnwrap(during.firstMatch(of: line).flatMap { Int($0.output[1].substring ?? "") })
        XCTAssertLessThan(done, 306, during)
        // Redrawn in place: later the same line shows a larger number.
        try await tmux.waitUntil("the line moves on", timeout: .seconds(20)) { screen in
            guard let n = screen.firstMatch(of: line).flatMap({ Int($0.output[1].substring ?? "") }) else {
                return false
            }
            return n > done
        }
        let after = try await tmux.waitUntil("the summary", timeout: .seconds(30)) { screen in
            screen.contains("patched 306 users\n306\n")
        }
        XCTAssertFalse(after.contains(line), "the progress line was left on the screen:\n\(after)")
        XCTAssertEqual(after.components(separatedBy: "patched 306 users").count, 2, after)
    }

    func testNoProgressLineWhenNotATerminal() async throws {
        let server = try await Fixtures.sandbox(generatedUsers: 100) { $0.latency = .milliseconds(20) }
        addTeardownBlock { await server.stop() }
        let r = try Fixtures.runScimsh(
            ["--host", E2E.hostURL(server), "-c", #"set concurrency = 1; find | patch displayName="x" | count"#],
            environment: E2E.tokenEnvironment(server))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "patched 106 users\n")
        XCTAssertEqual(r.stdout, "106\n")
    }
}
