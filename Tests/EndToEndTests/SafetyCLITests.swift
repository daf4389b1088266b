import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// The safety features through the built `scimsh` binary: `--trace`, `--dry-run`, curl commands that run as
/// printed, `expect` exit codes, and undo across two processes sharing a journal.
final class SafetyCLITests: XCTestCase {
    static let token = "tok-SECRET-4242"
    static let bjensen = "2819c223-7f76-453a-919d-413861904646"

    private let resources = TestResources()

    override func setUp() async throws {
        try await super.setUp()
        try E2E.requireBinary(Fixtures.scimshPath)
    }

    override func tearDown() async throws {
        await resources.cleanUp()
        try await super.tearDown()
    }

    func makeServer(
        generatedUsers: Int = 0, seedUsers: Bool = true, configure: (inout SandboxConfiguration) -> Void = { _ in }
    ) async throws -> SandboxServer {
        try await resources.sandbox(
            token: Self.token, generatedUsers: generatedUsers, seedUsers: seedUsers, configure: configure)
    }

    func host(_ server: SandboxServer) -> String { "http://127.0.0.1:\(server.port)" }

    /// A journal file of its own, so no test touches the home folder's.
    func makeJournalPath() throws -> String { try resources.temporaryPath("journal.jsonl") }

    /// Runs scimsh against `server` with the token in the environment and a private journal.
    func scimsh(
        _ server: SandboxServer, _ arguments: [String], journal: String? = nil
    ) throws -> Fixtures.ProcessResult {
        try Fixtures.runScimsh(
            ["--host", host(server)] + arguments,
            environment: ["SCIMSH_TOKEN": Self.token, "SCIMSH_JOURNAL": try journal ?? makeJournalPath()],
            timeout: 30)
    }

    func editable(_ user: JSONObject?) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for k in ["userName", "externalId", "displayName", "active", "emails"] { out[k] = user?[k] ?? .null }
        return out
    }

    func user(_ server: SandboxServer, id: String) -> JSONObject? { server.sandbox.user(id: id) }

    // MARK: curl

    /// Runs the statement with curl tracing against one sandbox, replays the printed PATCH with bash against a
    /// second, identical one, and checks both end the same.
    func assertCurlReplays(_ arguments: (SandboxServer) -> [String], file: StaticString = #filePath, line: UInt = #line)
        async throws
    {
        let first = try await makeServer()
        let second = try await makeServer()
        let result = try scimsh(first, arguments(first))
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        XCTAssertEqual(user(first, id: Self.bjensen)?["displayName"], "Curl Test", file: file, line: line)
        XCTAssertFalse(result.stderr.contains(Self.token), "the token leaked: \(result.stderr)", file: file, line: line)
        XCTAssertFalse(result.stdout.contains(Self.token), file: file, line: line)

        let curls = result.stderr.split(separator: "\n").map(String.init).filter {
            $0.hasPrefix("curl ") && !$0.contains("/ServiceProviderConfig")
        }
        XCTAssertEqual(curls.count, 2, result.stderr, file: file, line: line)
        guard let patch = curls.first(where: { $0.contains("-X PATCH") }),
            let get = curls.first(where: { !$0.contains("-X ") })
        else { return XCTFail("no PATCH and GET curl commands in:\n\(result.stderr)", file: file, line: line) }
        XCTAssertTrue(patch.contains("$SCIMSH_TOKEN"), patch, file: file, line: line)

        // Point the commands at the second sandbox and run them as printed.
        let from = "127.0.0.1:\(first.port)"
        let to = "127.0.0.1:\(second.port)"
        XCTAssertTrue(patch.contains(from), patch, file: file, line: line)
        let env = ["SCIMSH_TOKEN": Self.token]
        let listed = try Fixtures.run(
            "/bin/bash", ["-c", get.replacingOccurrences(of: from, with: to)], environment: env)
        XCTAssertEqual(listed.status, 0, listed.stderr, file: file, line: line)
        XCTAssertEqual(
            (try? JSONParser.parse(listed.stdout))?["totalResults"], 1, listed.stdout, file: file, line: line)

        XCTAssertEqual(user(second, id: Self.bjensen)?["displayName"], "Barbara Jensen", file: file, line: line)
        let patched = try Fixtures.run(
            "/bin/bash", ["-c", patch.replacingOccurrences(of: from, with: to)], environment: env)
        XCTAssertEqual(patched.status, 0, patched.stderr, file: file, line: line)
        XCTAssertEqual(
            (try? JSONParser.parse(patched.stdout))?["displayName"], "Curl Test", patched.stdout, file: file,
            line: line)
        XCTAssertEqual(
            editable(user(second, id: Self.bjensen)), editable(user(first, id: Self.bjensen)), file: file, line: line)
        XCTAssertEqual(second.requestLog().map(\.description).filter { $0.hasPrefix("PATCH") }.count, 1)
    }

    func testCurlTraceFlagPrintsCommandsThatRunAsIs() async throws {
        try await assertCurlReplays { _ in
            ["--trace", "curl", "-c", #"find userName eq "bjensen" | patch displayName="Curl Test""#]
        }
    }

    func testSetTraceCurlPrintsCommandsThatRunAsIs() async throws {
        try await assertCurlReplays { _ in
            ["-c", #"set trace = curl; find userName eq "bjensen" | patch displayName="Curl Test""#]
        }
    }

    // MARK: trace on

    func testTraceFlagShowsExchangesWithoutTheToken() async throws {
        let server = try await makeServer()
        let result = try scimsh(server, ["--trace", "on", "-c", #"find userName eq "bjensen" | count"#])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("> GET \(server.baseURL)/Users?filter=userName%20eq%20%22bjensen%22"))
        XCTAssertTrue(result.stderr.contains("< 200 OK"), result.stderr)
        XCTAssertTrue(result.stderr.contains(#""userName": "bjensen""#), result.stderr)
        XCTAssertFalse(result.stderr.contains(Self.token), result.stderr)
    }

    func testSetTraceOnInAScriptNeverPrintsTheToken() async throws {
        let server = try await makeServer()
        let result = try scimsh(server, ["-c", #"set trace = on; find userName eq "bjensen" | patch displayName="T""#])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("> PATCH \(server.baseURL)/Users/\(Self.bjensen)"), result.stderr)
        XCTAssertTrue(result.stderr.contains("> Authorization: Bearer ****"), result.stderr)
        XCTAssertFalse(result.stderr.contains(Self.token), result.stderr)
        XCTAssertFalse(result.stdout.contains(Self.token))
    }

    // MARK: dry run and expect

    func testDryRunFlagSendsNoWrite() async throws {
        let server = try await makeServer()
        let before = server.users()
        let journal = try makeJournalPath()
        let result = try scimsh(server, ["--dry-run", "-c", "find | patch active=false"], journal: journal)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("dry run: would have patched 6 users; nothing was sent"), result.stderr)
        XCTAssertEqual(server.requestLog().filter(\.isWrite), [])
        XCTAssertEqual(server.users(), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: journal))
    }

    func testSetDryRunInAScriptSendsNoWrite() async throws {
        let server = try await makeServer()
        let before = server.users()
        let result = try scimsh(server, ["-c", "set dry_run = on\nfind | patch active=false\nfind | delete"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("would patch user bjensen (\(Self.bjensen)): active: true → false"))
        XCTAssertTrue(result.stderr.contains("dry run: would have deactivated 6 users; nothing was sent"))
        XCTAssertEqual(server.requestLog().filter(\.isWrite), [])
        XCTAssertEqual(server.users(), before)
    }

    func testExpectMismatchExitsOneWithoutWriting() async throws {
        let server = try await makeServer()
        let before = server.users()
        let result = try scimsh(server, ["-c", "find | expect <= 2 | delete\necho not reached"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("expected <= 2 records, got 6"), result.stderr)
        XCTAssertFalse(result.stdout.contains("not reached"), "a script stops at the failed statement")
        XCTAssertEqual(server.requestLog().filter(\.isWrite), [])
        XCTAssertEqual(server.users(), before)

        let ok = try scimsh(server, ["-c", #"find userName eq "bjensen" | expect 1 | delete"#])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(server.requestLog().filter(\.isWrite).map(\.method), ["DELETE"])
    }

    // MARK: restart

    func testUndoInANewProcessRestoresThirtyDeletedUsers() async throws {
        let server = try await makeServer(generatedUsers: 30, seedUsers: false)
        let journal = try makeJournalPath()

        let deleted = try scimsh(server, ["-c", "find active eq true | delete"], journal: journal)
        XCTAssertEqual(deleted.status, 0, deleted.stderr)
        XCTAssertEqual(server.users().filter { $0["active"] == true }.count, 0)

        let undone = try scimsh(server, ["-c", "undo"], journal: journal)
        XCTAssertEqual(undone.status, 0, undone.stderr)
        XCTAssertEqual(server.users().filter { $0["active"] == true }.count, 30)

        let listed = try scimsh(server, ["--output", "json", "-c", "journal"], journal: journal)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let rows = (try? JSONParser.parse(listed.stdout))?.arrayValue ?? []
        XCTAssertEqual(rows.map { $0["statement"] }, ["find active eq true | delete", "undo"], listed.stdout)
        XCTAssertEqual(rows.map { $0["ok"] }, [30, 30], listed.stdout)
        let found = try scimsh(server, ["-c", "find | count"], journal: journal)
        XCTAssertTrue(found.stdout.contains("30"), found.stdout)
    }

    // MARK: processes sharing a journal

    /// Runs a program on a thread of its own (it blocks until the program ends), without holding up the
    /// cooperative pool the in-process sandbox answers on.
    static func runInBackground(
        _ path: String, _ arguments: [String], environment: [String: String]
    ) async -> Fixtures.ProcessResult? {
        await withCheckedContinuation { done in
            DispatchQueue.global().async {
                done.resume(returning: try? Fixtures.run(path, arguments, environment: environment, timeout: 60))
            }
        }
    }

    /// Four processes writing to one journal at once: every statement gets a number of its own, and `undo N`
    /// restores exactly statement N's write.
    func testConcurrentProcessesGetDistinctStatementNumbers() async throws {
        let server = try await makeServer(generatedUsers: 4, seedUsers: false)
        let journal = try makeJournalPath()
        let ids = server.users().compactMap { $0["id"]?.stringValue }
        XCTAssertEqual(ids.count, 4)
        let perProcess = 60
        var scripts: [String] = []
        for (p, id) in ids.enumerated() {
            let path = try resources.temporaryPath("p\(p).scim")
            let text = (1...perProcess).map { #"patch \#(id) displayName="p\#(p)-\#($0)""# }.joined(separator: "\n")
            try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            scripts.append(path)
        }
        let environment = ["SCIMSH_TOKEN": Self.token, "SCIMSH_JOURNAL": journal]
        let results = await withTaskGroup(of: Int32.self) { group in
            for script in scripts {
                let arguments = ["--host", host(server), script]
                group.addTask {
                    await Self.runInBackground(Fixtures.scimshPath, arguments, environment: environment)?.status ?? -1
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(results, [0, 0, 0, 0])

        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONParser.parse(String($0)).objectValue, String($0))
        }
        var texts: [Int: Set<String>] = [:]
        for line in lines {
            let n = try XCTUnwrap(line["statement_no"]?.numberValue, "\(line)")
            texts[Int(n), default: []].insert(line["statement"]?.stringValue ?? "")
        }
        XCTAssertEqual(texts.count, 4 * perProcess, "one number per statement")
        XCTAssertEqual(
            texts.filter { $0.value.count != 1 }.map(\.key).sorted(), [], "numbers shared by several statements")

        // undo N puts back exactly statement N's one write.
        let target = try XCTUnwrap(texts.first { $0.value.first?.hasSuffix(#"-30""#) == true })
        let undone = try scimsh(server, ["-c", "undo \(target.key)"], journal: journal)
        XCTAssertEqual(undone.status, 0, undone.stderr)
        XCTAssertTrue(undone.stderr.contains("reverted 1 user\n"), undone.stderr)
    }

    // MARK: SIGTERM and SIGHUP

    /// SIGTERM and SIGHUP stop a bulk change like Ctrl-C (no new write, those on the wire finish, the journal
    /// agrees, the summary is printed) and scimsh exits with 128 + the signal.
    func assertSignalStopsLikeControlC(_ signal: Int32, name: String) async throws {
        let server = try await makeServer(generatedUsers: 300, seedUsers: false) { $0.latency = .milliseconds(20) }
        let journal = try makeJournalPath()
        let pidFile = try resources.temporaryPath("pid")
        let command = [
            "echo $$ > \"$1\"; shift; exec \"$@\"", "sh", pidFile, Fixtures.scimshPath, "--host", host(server), "-c",
            #"set concurrency = 2; find | patch displayName="Stopped""#,
        ]
        let environment = ["SCIMSH_TOKEN": Self.token, "SCIMSH_JOURNAL": journal]
        let arguments = ["-c"] + command
        async let finished = Self.runInBackground("/bin/sh", arguments, environment: environment)
        let deadline = ContinuousClock.now + .seconds(30)
        while server.requestLog().filter(\.isWrite).count < 10, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let pid = try XCTUnwrap(
            Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, signal)
        let result = await finished
        let r = try XCTUnwrap(result)

        XCTAssertEqual(r.status, 128 + signal, r.stderr)
        let summary = try XCTUnwrap(
            r.stderr.split(separator: "\n").first { $0.hasPrefix("interrupted: patched ") }, r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("scimsh: terminated by \(name)\n"), r.stderr)
        let patched = server.users().filter { $0["displayName"] == "Stopped" }.count
        XCTAssertEqual(summary, "interrupted: patched \(patched) users", r.stderr)
        XCTAssertLessThan(patched, 300, "stopped midway")
        let writes = server.requestLog().filter(\.isWrite).count
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(server.requestLog().filter(\.isWrite).count, writes, "no write after exit")

        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONParser.parse(String($0)).objectValue)
        }
        let ok = lines.filter { $0["phase"] == "end" && $0["outcome"] == "ok" }.count
        XCTAssertEqual(ok, patched, "the journal's ok writes are the server's")
        let begun = lines.filter { $0["phase"] == "begin" }.count
        XCTAssertEqual(begun, lines.filter { $0["phase"] == "end" }.count, "every write begun has its outcome")
    }

    func testSIGTERMStopsLikeControlCAndExits143() async throws {
        try await assertSignalStopsLikeControlC(SIGTERM, name: "SIGTERM")
    }

    func testSIGHUPStopsLikeControlCAndExits129() async throws {
        try await assertSignalStopsLikeControlC(SIGHUP, name: "SIGHUP")
    }
}
