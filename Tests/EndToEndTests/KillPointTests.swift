import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// Kill points: SIGINT, SIGTERM and SIGKILL at random points of a bulk patch by the built binary, then the journal
/// and the server compared user by user, and `undo` run and checked to restore every user (docs/reliability.md).
///
/// The point of each kill is a random count of writes the sandbox has received; the seed is printed and can be
/// fixed with `SCIMSH_KILL_SEED` to replay a failing run.
final class KillPointTests: XCTestCase {
    static let token = "tok-KILL-7171"
    /// Users per trial: enough that every kill lands in the middle of the statement.
    static let users = 800

    private let resources = TestResources()

    override func setUp() async throws {
        try await super.setUp()
        try E2E.requireBinary(Fixtures.scimshPath)
    }

    override func tearDown() async throws {
        await resources.cleanUp()
        try await super.tearDown()
    }

    /// One trial's outcome, for the summary line.
    struct Trial: CustomStringConvertible {
        let signal: String
        let killedAfter: Int
        let changed: Int
        let begunNotEnded: Int
        let status: Int32
        var description: String {
            "\(signal) after \(killedAfter) writes: exit \(status), \(changed) users changed, "
                + "\(begunNotEnded) writes without an outcome, all restored by undo"
        }
    }

    func testKillsAtRandomPointsLeaveJournalAndServerInStepAndUndoRestoresEveryone() async throws {
        let seed =
            ProcessInfo.processInfo.environment["SCIMSH_KILL_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 1...UInt64(UInt32.max))
        var rng = SeededGenerator(seed: seed)
        let plan: [(Int32, String)] = [
            (SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGKILL, "SIGKILL"),
            (SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGKILL, "SIGKILL"),
        ]
        var trials: [Trial] = []
        for (n, (signal, name)) in plan.enumerated() {
            let point = Int.random(in: 1...(Self.users * 3 / 4), using: &rng)
            let trial = try await runTrial(n, signal: signal, name: name, after: point, seed: seed)
            trials.append(trial)
        }
        print("kill points (seed \(seed)):\n" + trials.map { "  \($0)" }.joined(separator: "\n"))
    }

    /// Starts `find | patch` over ``users`` users, sends `signal` once the sandbox has seen `point` writes, and
    /// checks the journal against the server, then `undo`.
    func runTrial(_ n: Int, signal: Int32, name: String, after point: Int, seed: UInt64) async throws -> Trial {
        let context = "trial \(n) (\(name) after \(point) writes, SCIMSH_KILL_SEED=\(seed))"
        let server = try await resources.sandbox(token: Self.token, generatedUsers: Self.users, seedUsers: false) {
            $0.latency = .milliseconds(2)
        }
        let before = Dictionary(
            uniqueKeysWithValues: server.users().compactMap { u in u["id"]?.stringValue.map { ($0, editable(u)) } })
        XCTAssertEqual(before.count, Self.users, context)
        let journal = try resources.temporaryPath("journal.jsonl")
        let directory = try Fixtures.temporaryDirectory()
        let marker = "Killed \(n)"
        let environment = [
            "SCIMSH_TOKEN": Self.token, "SCIMSH_JOURNAL": journal, "PATH": "/usr/bin:/bin",
            "HOME": directory, "TMPDIR": directory,
        ]
        let process = try ChildProcess.start(
            [
                Fixtures.scimshPath, "--host", "http://127.0.0.1:\(server.port)", "-c",
                "set concurrency = 8; find | patch displayName=\"\(marker)\" active=false",
            ], in: directory, environment: environment)
        let deadline = ContinuousClock.now + .seconds(20)
        while server.requestLog().filter(\.isWrite).count < point, process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        XCTAssertTrue(process.isRunning, "the statement ended before the kill point: \(context)\n\(process.stderr())")
        process.send(signal)
        let status = try await process.waitForExit(timeout: .seconds(15))
        let exit = try XCTUnwrap(status, "scimsh still runs 15 s after \(name): \(context)")
        XCTAssertEqual(exit, 128 + signal, "\(context)\n\(process.stderr())")
        let writes = server.requestLog().filter(\.isWrite).count
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(server.requestLog().filter(\.isWrite).count, writes, "a write after exit: \(context)")

        // Every journal line parses (each is one write(2), so even SIGKILL leaves none half written).
        let text = try String(contentsOfFile: journal, encoding: .utf8)
        XCTAssertTrue(text.hasSuffix("\n"), "the journal ends inside a line: \(context)")
        var begun: [String: JSONObject] = [:]
        var ended: [String: JSONObject] = [:]
        for line in text.split(separator: "\n") {
            let o = try XCTUnwrap(try? JSONParser.parse(String(line)).objectValue, "bad line \(line): \(context)")
            guard let id = o["id"]?.stringValue else { continue }
            switch o["phase"]?.stringValue {
            case "begin": begun[id] = o
            case "end": ended[id] = o
            default: break
            }
        }

        // User by user: changed on the server exactly when the journal has its write, with the right before-image.
        var changed = 0
        for user in server.users() {
            let id = try XCTUnwrap(user["id"]?.stringValue)
            let original = try XCTUnwrap(before[id])
            let now = editable(user)
            if now == original {
                XCTAssertNotEqual(
                    ended[id]?["outcome"], "ok", "\(id) is untouched but journaled as patched: \(context)")
                // A write begun when the signal came and withdrawn before it left is journaled "not sent".
                if signal != SIGKILL, begun[id] != nil {
                    XCTAssertEqual(
                        ended[id]?["outcome"], "not sent",
                        "\(id) is untouched but its journal line does not say it was not sent: \(context)")
                }
                continue
            }
            changed += 1
            XCTAssertEqual(now["displayName"], .string(marker), "\(id): \(context)")
            XCTAssertEqual(now["active"], false, "\(id): \(context)")
            let begin = try XCTUnwrap(begun[id], "\(id) was changed without a journal line: \(context)")
            XCTAssertEqual(
                begin["before"]?.objectValue.map { editable($0) }, original,
                "\(id)'s before-image is not the user as it was: \(context)")
            if let end = ended[id] {
                XCTAssertEqual(end["outcome"], "ok", "\(id) changed, journaled \(end): \(context)")
            } else {
                XCTAssertEqual(signal, SIGKILL, "\(id) has no outcome after \(name): \(context)")
            }
        }
        let open = Set(begun.keys).subtracting(ended.keys).count
        if signal != SIGKILL {
            XCTAssertEqual(open, 0, "every write begun has its outcome after \(name): \(context)")
        }
        XCTAssertGreaterThan(changed, 0, "the kill came before any write: \(context)")
        XCTAssertLessThan(changed, Self.users, "the kill came after the last write: \(context)")

        // undo puts every user back as it was.
        let undone = try Fixtures.runScimsh(
            ["--host", "http://127.0.0.1:\(server.port)", "-c", "undo"], environment: environment, timeout: 60)
        XCTAssertEqual(undone.status, 0, "undo: \(context)\n\(undone.stderr)")
        for user in server.users() {
            let id = try XCTUnwrap(user["id"]?.stringValue)
            XCTAssertEqual(editable(user), before[id], "\(id) not restored by undo: \(context)\n\(undone.stderr)")
        }
        return Trial(
            signal: name, killedAfter: point, changed: changed, begunNotEnded: open, status: exit)
    }

    /// The attributes the patch changes and undo restores, `null` when absent.
    func editable(_ user: JSONObject) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for k in ["userName", "externalId", "displayName", "active"] { out[k] = user[k] ?? .null }
        return out
    }
}
