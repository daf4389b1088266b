import Foundation
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// The safety features of issue 5, in-process against a real sandbox on a loopback port: explain, dry run, trace,
/// expect, the filter double-check, the ODM dialect, and the write journal with undo.
///
/// Every sandbox here uses a distinctive admin token so a leak into any output is caught by a plain substring
/// check, and every interpreter journals to its own temporary file.
final class SafetyTests: XCTestCase {
    static let token = "tok-SECRET-4242"
    static let bjensen = "2819c223-7f76-453a-919d-413861904646"

    private let resources = TestResources()
    private var interpreters: [Interpreter] = []

    override func tearDown() async throws {
        for i in interpreters { await i.shutdown() }
        interpreters = []
        await resources.cleanUp()
        try await super.tearDown()
    }

    // MARK: Helpers

    /// A sandbox with the distinctive token (seed users plus `generatedUsers`).
    func makeServer(
        generatedUsers: Int = 0, seedUsers: Bool = true, configure: (inout SandboxConfiguration) -> Void = { _ in }
    ) async throws -> SandboxServer {
        try await resources.sandbox(
            token: Self.token, generatedUsers: generatedUsers, seedUsers: seedUsers, configure: configure)
    }

    /// The journal writes images straight from records; they must read exactly as the image objects encode.
    func testJournalImageJSONIsTheEncodedImage() throws {
        let records: [Record?] = [
            nil,
            JSONObject(),
            JSONObject([("id", "1"), ("USERNAME", "bj\"ensen"), ("active", false), ("emails", [["value": "x"]])]),
            JSONObject([
                ("displayName", .string("Ba\u{1}rbara ✓")), ("externalId", .null), ("userName", "b"), ("meta", [:]),
            ]),
            JSONObject([("displayname", ["nested": [1, 2.5]]), ("active", true), ("externalID", "e")]),
        ]
        for r in records {
            let expected = r.map { JSONEncoderFast.encodeBytes(.object(Journal.image($0)!)) } ?? Array("null".utf8)
            XCTAssertEqual(
                String(decoding: Journal.imageJSON(r), as: UTF8.self), String(decoding: expected, as: UTF8.self))
        }
    }

    /// A journal path in a fresh temporary directory.
    func makeJournalPath() throws -> String { try resources.temporaryPath("state/journal.jsonl") }

    /// An interpreter (a script, not the prompt) pointed at `server`, journaling to `journal`.
    func makeShell(_ server: SandboxServer, journal: String) -> (Interpreter, CapturingSink) {
        let sink = CapturingSink()
        let shell = Interpreter(sink: sink, environment: [:], journalPath: journal)
        shell.setVariable("host", .string("http://127.0.0.1:\(server.port)"))
        shell.setVariable("token", .string(Self.token))
        interpreters.append(shell)
        return (shell, sink)
    }

    func writes(_ server: SandboxServer) -> [SandboxRequest] { server.requestLog().filter(\.isWrite) }

    func user(_ server: SandboxServer, _ userName: String) -> JSONObject? {
        server.users().first { $0["userName"]?.stringValue == userName }
    }

    /// Every line of the journal file, parsed.
    func journalLines(_ path: String) throws -> [JSONObject] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            try XCTUnwrap(JSONParser.parse(String(line)).objectValue, "journal line is not an object: \(line)")
        }
    }

    /// Runs text and fails the test (with the messages) unless it succeeded.
    @discardableResult
    func runOK(
        _ shell: Interpreter, _ sink: CapturingSink, _ text: String, file: StaticString = #filePath, line: UInt = #line
    ) async -> RunResult {
        let r = await shell.run(text)
        XCTAssertEqual(r.status, .success, "\(text)\n--- messages:\n\(sink.messages)", file: file, line: line)
        return r
    }

    // MARK: explain

    func testExplainSendsNothingAndShowsTheExactRequests() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        let before = server.users()
        server.clearLog()

        await runOK(shell, sink, #"explain find userName eq "bjensen" | patch displayName="B. Jensen" active=false"#)

        XCTAssertEqual(writes(server), [], "explain must not write")
        XCTAssertEqual(server.users(), before)
        let out = sink.data
        let base = "http://127.0.0.1:\(server.port)/api/v1/scim"
        XCTAssertTrue(out.contains("pipeline: 2 stages"), out)
        XCTAssertTrue(out.contains("1. find (sends reads)"), out)
        XCTAssertTrue(out.contains("2. patch (sends writes)"), out)
        XCTAssertTrue(out.contains(#"filter: userName eq "bjensen""#), out)
        XCTAssertTrue(
            out.contains("GET \(base)/Users?filter=userName%20eq%20%22bjensen%22&startIndex=1&count=100"), out)
        XCTAssertTrue(out.contains("PATCH \(base)/Users/{id}"), out)
        XCTAssertTrue(out.contains("Authorization: Bearer ****"), out)
        XCTAssertTrue(out.contains("Content-Type: application/scim+json"), out)
        // The pretty-printed PatchOp body, one member per line.
        XCTAssertTrue(out.contains(#""urn:ietf:params:scim:api:messages:2.0:PatchOp""#), out)
        XCTAssertTrue(out.contains(#""op": "replace""#), out)
        XCTAssertTrue(out.contains(#""displayName": "B. Jensen""#), out)
        XCTAssertTrue(out.contains(#""active": false"#), out)
        XCTAssertFalse((out + sink.messages).contains(Self.token))
        XCTAssertFalse(FileManager.default.fileExists(atPath: shell.journal?.path ?? ""), "explain journals nothing")
    }

    func testExplainOfDeleteAndCreateSendsNothing() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        let before = server.users()
        server.clearLog()

        await runOK(shell, sink, "explain delete \(Self.bjensen)")
        await runOK(shell, sink, #"explain create userName=newbie displayName="New Bie""#)

        XCTAssertEqual(writes(server), [])
        XCTAssertEqual(server.users(), before)
        let base = "http://127.0.0.1:\(server.port)/api/v1/scim"
        XCTAssertTrue(sink.data.contains("DELETE \(base)/Users/\(Self.bjensen)"), sink.data)
        XCTAssertTrue(sink.data.contains("POST \(base)/Users"), sink.data)
        XCTAssertTrue(sink.data.contains(#""userName": "newbie""#), sink.data)
    }

    // MARK: dry run

    func testDryRunSendsNoWritesAndPrintsThePlan() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        let before = server.users()
        server.clearLog()

        await runOK(shell, sink, #"set dry_run = on; find userName eq "bjensen" | patch displayName="B""#)
        await runOK(shell, sink, "find | delete")

        XCTAssertEqual(writes(server), [], "dry run must not write")
        XCTAssertEqual(server.users(), before)
        XCTAssertFalse(server.requestLog().isEmpty, "the find still reads")
        let m = sink.messages
        XCTAssertTrue(
            m.contains(#"would patch user bjensen (\#(Self.bjensen)): displayName: "Barbara Jensen" → "B""#), m)
        XCTAssertTrue(m.contains("dry run: would have patched 1 user; nothing was sent"), m)
        XCTAssertTrue(m.contains("dry run: would have deactivated 6 users; nothing was sent"), m)
        XCTAssertTrue(m.contains("active: true → false"), m)
        XCTAssertFalse(m.contains(Self.token))
        XCTAssertFalse(FileManager.default.fileExists(atPath: shell.journal?.path ?? ""), "a dry run journals nothing")
    }

    /// The requests that could change something (every method but GET), as `METHOD URI` lines.
    func nonReads(_ server: SandboxServer) -> [String] {
        server.requestLog().filter { $0.method != "GET" }.map { "\($0.method) \($0.uri)" }
    }

    /// Dry runs and explain send no request that can change anything, even for a user ODM hides from GET; the plan
    /// says that user's before-image is unknown instead of reading it with a (no-op) PATCH.
    func testDryRunsAndExplainOfADeactivatedUserSendOnlyGETs() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        await runOK(shell, sink, "delete \(Self.bjensen)")
        server.clearLog()
        sink.reset()

        await runOK(shell, sink, #"set dry_run = on; patch \#(Self.bjensen) displayName="B""#)
        await runOK(shell, sink, "delete \(Self.bjensen)")
        await runOK(shell, sink, #"create userName=newbie displayName="New Bie""#)
        await runOK(shell, sink, #"find userName eq "rkumar" | patch displayName="R""#)
        await runOK(shell, sink, "undo")
        await runOK(shell, sink, #"set dry_run = off; explain patch \#(Self.bjensen) displayName="B""#)
        await runOK(shell, sink, "explain delete \(Self.bjensen)")
        await runOK(shell, sink, #"explain find userName eq "rkumar" | patch displayName="R""#)

        XCTAssertEqual(nonReads(server), [], "a dry run and explain send no request that can change anything")
        let m = sink.messages
        XCTAssertTrue(m.contains("before-image unknown: ODM hides deactivated users from GET"), m)
        XCTAssertTrue(m.contains("dry run: would have patched 1 user; nothing was sent"), m)
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Barbara Jensen")
    }

    /// The confirmation plan at the prompt reads before-images with GETs only; answering no sends nothing else.
    func testConfirmationPlanOfADeactivatedUserSendsOnlyGETs() async throws {
        let server = try await makeServer()
        let sink = CapturingSink()
        let shell = Interpreter(sink: sink, environment: [:], interactive: true, journalPath: try makeJournalPath())
        shell.setVariable("host", .string("http://127.0.0.1:\(server.port)"))
        shell.setVariable("token", .string(Self.token))
        interpreters.append(shell)
        let asked = LockedValue<[String]>([])
        shell.setConfirmer { question in
            asked.withLock { $0.append(question) }
            return false
        }
        await runOK(shell, sink, "set confirm_above = 5; delete \(Self.bjensen)")
        server.clearLog()

        await runOK(shell, sink, #"set confirm_above = 0; patch \#(Self.bjensen) displayName="B""#)

        XCTAssertEqual(asked.withLock { $0.count }, 1, sink.messages)
        XCTAssertEqual(nonReads(server), [], "the plan must not write")
        XCTAssertTrue(
            sink.messages.contains("before-image unknown: ODM hides deactivated users from GET"), sink.messages)
        XCTAssertTrue(sink.messages.contains("nothing changed"), sink.messages)
    }

    // MARK: trace

    func testTraceShowsRequestAndResponseButNeverTheToken() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())

        await runOK(shell, sink, #"set trace = on; find userName eq "bjensen" | patch displayName="Traced""#)

        let m = sink.messages
        let base = "http://127.0.0.1:\(server.port)/api/v1/scim"
        XCTAssertTrue(m.contains("> GET \(base)/Users?filter=userName%20eq%20%22bjensen%22"), m)
        XCTAssertTrue(m.contains("> PATCH \(base)/Users/\(Self.bjensen)"), m)
        XCTAssertTrue(m.contains("> Authorization: Bearer ****"), m)
        XCTAssertTrue(m.contains("< 200 OK"), m)
        XCTAssertTrue(m.contains(#""displayName": "Traced""#), "the PATCH body and the response body: \(m)")
        XCTAssertTrue(m.contains(#""totalResults": 1"#), "the list response body: \(m)")
        XCTAssertFalse(m.contains(Self.token), "the token leaked into the trace")
        XCTAssertFalse(sink.data.contains(Self.token))
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Traced")

        // Off again: nothing more is traced.
        sink.reset()
        await runOK(shell, sink, #"set trace = off; find userName eq "bjensen""#)
        XCTAssertFalse(sink.messages.contains("> GET"), sink.messages)
    }

    func testTraceOfAFailedRequestNeverShowsTheToken() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        // The first statement learns that the sandbox has no discovery; the fault is for the GET after it.
        await runOK(shell, sink, "find --limit 1 | count")
        server.failNext(.internalServerError)

        _ = await shell.run(#"set trace = on; get \#(Self.bjensen)"#)

        XCTAssertTrue(sink.messages.contains("< 500"), sink.messages)
        XCTAssertFalse((sink.messages + sink.data).contains(Self.token))
    }

    func testCurlTraceReadsTheTokenFromTheEnvironment() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())

        await runOK(shell, sink, #"set trace = curl; find userName eq "bjensen" | patch displayName="Curl""#)

        let curls = sink.messages.split(separator: "\n").filter {
            $0.hasPrefix("curl ") && !$0.contains("/ServiceProviderConfig")
        }
        XCTAssertEqual(curls.count, 2, sink.messages)
        let patch = curls.first { $0.contains("-X PATCH") }.map(String.init) ?? ""
        XCTAssertTrue(patch.contains(#"-H "Authorization: Bearer $SCIMSH_TOKEN""#), patch)
        XCTAssertTrue(patch.contains("'http://127.0.0.1:\(server.port)/api/v1/scim/Users/\(Self.bjensen)'"), patch)
        XCTAssertTrue(patch.contains("--data-raw '"), patch)
        XCTAssertFalse(sink.messages.contains(Self.token))
    }

    // MARK: expect

    func testExpectAbortsBeforeAnyWrite() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        let before = server.users()
        server.clearLog()

        let r = await shell.run("find | expect 1 | delete")

        XCTAssertEqual(r.status, .failed)
        XCTAssertEqual(writes(server), [], "expect must stop the pipeline before any write")
        XCTAssertEqual(server.users(), before)
        XCTAssertTrue(sink.messages.contains("expected 1 record, got 6"), sink.messages)

        let r2 = await shell.run("find | expect <= 5 | patch displayName=X")
        XCTAssertEqual(r2.status, .failed)
        XCTAssertEqual(writes(server), [])
        XCTAssertTrue(sink.messages.contains("expected <= 5 records, got 6"), sink.messages)
        XCTAssertEqual(server.users(), before)
    }

    func testExpectPassesWhenTheCountMatches() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        server.clearLog()

        await runOK(shell, sink, #"find userName eq "bjensen" | expect 1 | patch displayName="Expected""#)
        XCTAssertEqual(writes(server).map(\.method), ["PATCH"])
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Expected")

        await runOK(shell, sink, #"find | expect <= 6 | expect >= 6 | patch displayName="All""#)
        XCTAssertEqual(writes(server).count, 7)
    }

    // MARK: filter double-check

    func testDoubleCheckDropsUsersASloppyServerReturns() async throws {
        let server = try await makeServer { $0.ignoreUnsupportedFilterClauses = true }
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())

        await runOK(shell, sink, "set dialect = rfc")
        let records = try await shell.evaluate(#"find userName eq "bjensen" or displayName co "Jen""#)

        XCTAssertEqual(records.compactMap { $0["userName"]?.stringValue }, ["bjensen"])
        // The server really did return everyone: prove the check, not the server, did the filtering.
        XCTAssertTrue(
            sink.messages.contains(
                "warning: the server returned 5 users that do not match the filter; dropped them (the server "
                    + "probably ignored part of the filter)"), sink.messages)
    }

    func testDoubleCheckKeepsAPatchInsideTheFilter() async throws {
        let server = try await makeServer { $0.ignoreUnsupportedFilterClauses = true }
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        let before = server.users()
        server.clearLog()

        // The sloppy server drops the `co` clause and answers `active eq true`: every active user.
        await runOK(
            shell, sink,
            #"set dialect = rfc; find active eq true and displayName co "Jensen" | patch displayName="Hit""#)

        XCTAssertEqual(writes(server).map(\.uri), ["/api/v1/scim/Users/\(Self.bjensen)"])
        XCTAssertTrue(sink.messages.contains("the server returned 5 users that do not match the filter"), sink.messages)
        for (old, new) in zip(before, server.users()) where old["userName"]?.stringValue != "bjensen" {
            XCTAssertEqual(old, new, "a user outside the filter changed")
        }
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Hit")
    }

    func testNoWarningWhenTheServerFiltersCorrectly() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        let records = try await shell.evaluate(#"find userName eq "bjensen""#)
        XCTAssertEqual(records.count, 1)
        XCTAssertFalse(sink.messages.contains("warning"), sink.messages)
    }

    // MARK: dialect

    func testOdmDialectRejectsContainsWithTheLocalAlternative() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        server.clearLog()

        let r = await shell.run(#"find displayName co "Jen""#)

        XCTAssertEqual(r.status, .failed)
        XCTAssertEqual(server.requestLogWithoutDiscovery(), [], "the filter must be rejected before anything is sent")
        let m = sink.messages
        XCTAssertTrue(m.contains("ODM does not support the operator co in filters"), m)
        XCTAssertTrue(m.contains(#"find | where displayName co "Jen""#), m)
        XCTAssertTrue(m.contains("set dialect = rfc"), m)

        // The same filter goes out under rfc (the sandbox, like ODM, answers 400).
        sink.reset()
        _ = await shell.run(#"set dialect = rfc; find displayName co "Jen""#)
        XCTAssertEqual(server.requestLogWithoutDiscovery().map(\.status), [400])
    }

    func testOdmDialectRejectsOrNotAndPresent() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        server.clearLog()
        for filter in [
            #"userName eq "a" or userName eq "b""#, #"not (userName eq "a")"#, "externalId pr",
            #"userName sw "b""#,
        ] {
            sink.reset()
            let r = await shell.run("find \(filter) | delete")
            XCTAssertEqual(r.status, .failed, filter)
            XCTAssertTrue(sink.messages.contains("ODM does not support"), "\(filter): \(sink.messages)")
        }
        XCTAssertEqual(server.requestLogWithoutDiscovery(), [])
    }

    func testOdmDialectWarnsAboutIgnoredPatchAttributes() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        await runOK(shell, sink, #"find userName eq "bjensen" | patch title="Boss""#)
        XCTAssertTrue(sink.messages.contains("warning: ODM ignores changes to title"), sink.messages)
    }

    // MARK: journal and undo

    func testUndoAfterRestartRestoresThirtyDeletedUsers() async throws {
        let server = try await makeServer(generatedUsers: 30, seedUsers: false)
        let journal = try makeJournalPath()
        let (first, firstSink) = makeShell(server, journal: journal)

        await runOK(first, firstSink, "find active eq true | delete")
        XCTAssertTrue(server.users().allSatisfy { $0["active"] == false })
        let afterDelete = try await first.evaluate("find")
        XCTAssertEqual(afterDelete.count, 0)
        await first.shutdown()

        // A new interpreter: nothing in memory, only the journal file.
        let (second, secondSink) = makeShell(server, journal: journal)
        await runOK(second, secondSink, "undo")

        XCTAssertEqual(server.users().count, 30)
        XCTAssertTrue(server.users().allSatisfy { $0["active"] == true }, "\(server.users())")
        let afterUndo = try await second.evaluate("find")
        XCTAssertEqual(afterUndo.count, 30)
        XCTAssertTrue(secondSink.messages.contains("reverted 30 users"), secondSink.messages)

        let statements = try await second.evaluate("journal")
        XCTAssertEqual(statements.map { $0["statement"]?.stringValue }, ["find active eq true | delete", "undo"])
        XCTAssertEqual(statements.map { $0["ok"] }, [30, 30])
        XCTAssertEqual(statements.map { $0["failed"] }, [0, 0])
        XCTAssertEqual(statements.map { $0["host"]?.stringValue }, Array(repeating: server.baseURL, count: 2))

        // The journal is private.
        let attributes = try FileManager.default.attributesOfItem(atPath: journal)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
    }

    func testInterruptedPipelineLeavesAJournalMatchingTheServer() async throws {
        let server = try await makeServer(generatedUsers: 60, seedUsers: false)
        let journal = try makeJournalPath()
        let (shell, sink) = makeShell(server, journal: journal)
        shell.setVariable("concurrency", 4)
        server.setFaults(latency: .milliseconds(15))

        let task = Task { await shell.run(#"find active eq true | patch displayName="Interrupted""#) }
        // Wait until some patches are through, then press Ctrl-C.
        let deadline = ContinuousClock.now + .seconds(20)
        while server.requestLog().filter({ $0.method == "PATCH" }).count < 8, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
        task.cancel()
        let result = await task.value
        server.setFaults(latency: .zero)

        XCTAssertEqual(result.status, .cancelled, sink.messages)
        let patchedOnServer = Set(
            server.users().filter { $0["displayName"] == "Interrupted" }.compactMap { $0["id"]?.stringValue })
        XCTAssertGreaterThanOrEqual(patchedOnServer.count, 8)
        XCTAssertLessThan(patchedOnServer.count, 60, "the interruption came too late to test anything")

        let lines = try journalLines(journal)
        let begins = lines.filter { $0["phase"] == "begin" }.compactMap { $0["id"]?.stringValue }
        let ends = lines.filter { $0["phase"] == "end" }
        let okIds = ends.filter { $0["outcome"] == "ok" }.compactMap { $0["id"]?.stringValue }
        XCTAssertEqual(Set(okIds), patchedOnServer, "the journal's ok writes must be exactly the server's changes")
        XCTAssertEqual(okIds.count, Set(okIds).count, "a user journaled twice")
        XCTAssertEqual(begins.sorted(), ends.compactMap { $0["id"]?.stringValue }.sorted(), "a begin without an end")
        for e in ends where e["outcome"] == "ok" {
            XCTAssertEqual(e["after"]?["displayName"], "Interrupted")
            XCTAssertEqual(e["before"]?["displayName"]?.stringValue?.hasPrefix("Generated User "), true)
        }
        XCTAssertTrue(sink.messages.contains("interrupted: patched \(patchedOnServer.count) users"), sink.messages)

        // And undo puts back exactly those.
        await runOK(shell, sink, "undo")
        XCTAssertFalse(server.users().contains { $0["displayName"] == "Interrupted" })
        XCTAssertEqual(
            server.users().filter { $0["displayName"]?.stringValue?.hasPrefix("Generated User ") == true }.count, 60)
    }

    func testInterruptedDeleteWhilePagingLeavesAJournalMatchingTheServer() async throws {
        // Deletes move users out of the listing while it is paged (small pages), with many writes in flight.
        let server = try await makeServer(generatedUsers: 80, seedUsers: false)
        let journal = try makeJournalPath()
        let (shell, sink) = makeShell(server, journal: journal)
        shell.setVariable("concurrency", 8)
        shell.setVariable("page_size", 10)
        server.setFaults(latency: .milliseconds(10))

        let task = Task { await shell.run("find active eq true | delete") }
        let deadline = ContinuousClock.now + .seconds(20)
        while server.requestLog().filter({ $0.method == "DELETE" }).count < 25, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
        task.cancel()
        let result = await task.value
        server.setFaults(latency: .zero)

        let inactive = Set(server.users().filter { $0["active"] == false }.compactMap { $0["id"]?.stringValue })
        XCTAssertGreaterThanOrEqual(inactive.count, 25)
        XCTAssertLessThan(inactive.count, 80, "the interruption came too late to test anything")

        let lines = try journalLines(journal)
        let begins = lines.filter { $0["phase"] == "begin" }.compactMap { $0["id"]?.stringValue }
        let ends = lines.filter { $0["phase"] == "end" }
        let okIds = ends.filter { $0["outcome"] == "ok" }.compactMap { $0["id"]?.stringValue }
        XCTAssertEqual(Set(okIds), inactive)
        XCTAssertEqual(okIds.count, inactive.count, "a user journaled twice")
        XCTAssertEqual(begins.sorted(), ends.compactMap { $0["id"]?.stringValue }.sorted(), "a begin without an end")
        XCTAssertEqual(
            server.requestLog().filter { $0.method == "DELETE" }.count, inactive.count, "a user deleted twice")

        XCTAssertTrue(sink.messages.contains("interrupted: deactivated \(inactive.count) users"), sink.messages)
        let messages = sink.messages
        await runOK(shell, sink, "undo")
        XCTAssertTrue(server.users().allSatisfy { $0["active"] == true })

        XCTAssertEqual(result.status, .cancelled, messages)
    }

    /// Lines a journal must survive: huge, fractional and missing statement numbers, non-JSON, a last line cut
    /// short. They are reported and skipped; writes, `journal` and `undo` go on, and the next line starts anew.
    func testBadJournalLinesAreReportedAndSkipped() async throws {
        let server = try await makeServer()
        let path = try makeJournalPath()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let bad = [
            #"{"statement_no":1e300,"phase":"end","outcome":"ok","id":"x"}"#,
            #"{"statement_no":-7,"phase":"end"}"#, #"{"statement_no":2.5,"phase":"end"}"#, "not json",
            #"{"time":"2026-01-01T00:00:00Z","statement_no":3,"statement":"patch","ph"#,
        ]
        try bad.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let (shell, sink) = makeShell(server, journal: path)

        await runOK(shell, sink, #"find userName eq "bjensen" | patch displayName="B""#)
        await runOK(shell, sink, "journal")
        XCTAssertTrue(
            sink.messages.contains("warning: the journal \(path) has 5 unreadable lines (1, 2, 3, 4, 5), skipped"),
            sink.messages)
        await runOK(shell, sink, "undo")
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Barbara Jensen")

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(Array(lines.prefix(5)), bad, "the truncated line keeps a line of its own")
        for line in lines.dropFirst(5) {
            XCTAssertNotNil(try? JSONParser.parse(line).objectValue, line)
        }
        for arg in ["1e300", "nan", "inf", "2.5", "99999999999999999999"] {
            sink.reset()
            let r = await shell.run("journal \(arg)")
            XCTAssertEqual(r.status, .failed, arg)
            XCTAssertTrue(sink.messages.contains("journal takes a statement number"), sink.messages)
            let u = await shell.run("undo \(arg)")
            XCTAssertEqual(u.status, .failed, arg)
        }
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Barbara Jensen")
    }

    func testUndoPutsBackARemovedExternalId() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        XCTAssertEqual(user(server, "bjensen")?["externalId"], "701984")

        await runOK(shell, sink, #"find userName eq "bjensen" | patch remove externalId"#)
        XCTAssertNil(user(server, "bjensen")?["externalId"])

        await runOK(shell, sink, "undo")
        XCTAssertEqual(user(server, "bjensen")?["externalId"], "701984")
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Barbara Jensen")
        XCTAssertEqual(user(server, "bjensen")?["active"], true)
    }

    func testUndoRemovesAnExternalIdThePatchAdded() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        XCTAssertNil(user(server, "tnguyen")?["externalId"])

        await runOK(shell, sink, #"find userName eq "tnguyen" | patch externalId="EMP-9999" displayName="T. N.""#)
        XCTAssertEqual(user(server, "tnguyen")?["externalId"], "EMP-9999")

        await runOK(shell, sink, "undo")
        XCTAssertNil(user(server, "tnguyen")?["externalId"])
        XCTAssertEqual(user(server, "tnguyen")?["displayName"], "Thanh Nguyen")
    }

    func testUndoOfCreateDeactivatesTheCreatedUser() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())

        await runOK(shell, sink, #"create userName=newbie displayName="New Bie" email=newbie@example.com"#)
        XCTAssertEqual(user(server, "newbie")?["active"], true)

        await runOK(shell, sink, "undo")
        XCTAssertEqual(user(server, "newbie")?["active"], false)
        let found = try await shell.evaluate(#"find userName eq "newbie""#)
        XCTAssertEqual(found.count, 0)

        // Undo of the undo brings it back.
        await runOK(shell, sink, "undo")
        XCTAssertEqual(user(server, "newbie")?["active"], true)
    }

    func testUndoTwiceReappliesAndUndoNTargetsAStatement() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())

        await runOK(shell, sink, #"find userName eq "bjensen" | patch displayName="First""#)  // 1
        await runOK(shell, sink, #"find userName eq "rkumar" | patch active=false"#)  // 2
        XCTAssertEqual(user(server, "rkumar")?["active"], false)

        await runOK(shell, sink, "undo")  // 3: reverts 2
        XCTAssertEqual(user(server, "rkumar")?["active"], true)
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "First")

        await runOK(shell, sink, "undo")  // 4: reverts 3, so re-applies 2
        XCTAssertEqual(user(server, "rkumar")?["active"], false)
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "First")

        await runOK(shell, sink, "undo 1")  // 5
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Barbara Jensen")
        XCTAssertEqual(user(server, "rkumar")?["active"], false)

        let numbers = try await shell.evaluate("journal").compactMap { $0["no"]?.numberValue }
        XCTAssertEqual(numbers, [1, 2, 3, 4, 5])
        let writesOf1 = try await shell.evaluate("journal 1")
        XCTAssertEqual(writesOf1.count, 1)
        XCTAssertEqual(writesOf1.first?["before"]?["displayName"], "Barbara Jensen")
        XCTAssertEqual(writesOf1.first?["after"]?["displayName"], "First")
    }

    func testUndoTwiceReappliesAPatchThatDeactivated() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())

        await runOK(shell, sink, #"find userName eq "bjensen" | patch active=false displayName="Gone""#)
        await runOK(shell, sink, "undo")
        XCTAssertEqual(user(server, "bjensen")?["active"], true)
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Barbara Jensen")

        // The first undo could not read bjensen back (deactivated users are invisible to GET), so its
        // before-image comes from the journal: undoing it must re-apply both changes, not just deactivate.
        await runOK(shell, sink, "undo")
        XCTAssertEqual(user(server, "bjensen")?["active"], false)
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Gone")

        await runOK(shell, sink, "undo")
        XCTAssertEqual(user(server, "bjensen")?["active"], true)
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Barbara Jensen")
    }

    func testUndoTwiceAfterADeleteByIdDeactivatesAgain() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())

        await runOK(shell, sink, "delete \(Self.bjensen)")
        await runOK(shell, sink, "undo")
        XCTAssertEqual(user(server, "bjensen")?["active"], true)
        await runOK(shell, sink, "undo")
        XCTAssertEqual(user(server, "bjensen")?["active"], false)
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Barbara Jensen")
    }

    func testUndoOfAPatchOnADeactivatedUser() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        let okoval = "c5e7f9a1-3c5d-4e7f-a0b2-6c8d0e2f5d05"
        XCTAssertEqual(user(server, "okoval")?["active"], false)

        await runOK(shell, sink, #"patch \#(okoval) displayName="X""#)
        XCTAssertEqual(user(server, "okoval")?["displayName"], "X")
        server.clearLog()
        _ = await shell.run("undo")

        // ODM's GET cannot read a deactivated user; the before-image comes from a no-op PATCH instead, so undo
        // restores the name, and never guesses a DELETE of a user it did not create.
        XCTAssertFalse(server.requestLog().contains { $0.method == "DELETE" }, "\(server.requestLog())")
        XCTAssertEqual(user(server, "okoval")?["active"], false)
        XCTAssertEqual(user(server, "okoval")?["displayName"], "Olena Koval")
    }

    func testJournalNeverContainsTheToken() async throws {
        let server = try await makeServer()
        let journal = try makeJournalPath()
        let (shell, sink) = makeShell(server, journal: journal)
        await runOK(shell, sink, #"set token = "\#(Self.token)"; find userName eq "bjensen" | patch displayName="Hi""#)
        await runOK(shell, sink, "undo")
        let text = try String(contentsOfFile: journal, encoding: .utf8)
        XCTAssertFalse(text.isEmpty)
        XCTAssertFalse(text.contains(Self.token), text)
    }

    /// The journal's lines, written straight as bytes: keys in a fixed order, text escaped, the statement number
    /// and text of each statement (cached per statement) right for every line, the before-image in both lines.
    func testJournalLinesHaveTheirKeysInOrderAndPerStatementFields() async throws {
        let server = try await makeServer()
        let journal = try makeJournalPath()
        let (shell, sink) = makeShell(server, journal: journal)
        await runOK(shell, sink, #"find userName eq "bjensen" | patch displayName="Say \"hi\"""#)
        await runOK(shell, sink, #"find userName eq "bjensen" | patch displayName="Again""#)
        let text = try String(contentsOfFile: journal, encoding: .utf8)
        // Each statement first claims its number with a line of its own.
        let claim = #""phase":"statement"}"#
        let raw = text.split(separator: "\n").map(String.init).filter { !$0.hasSuffix(claim) }
        let all = try journalLines(journal)
        let claims = all.filter { $0["phase"] == "statement" }
        XCTAssertEqual(
            claims.map { $0.map(\.key) },
            Array(repeating: ["time", "statement_no", "statement", "host", "phase"], count: 2))
        XCTAssertEqual(claims.map { $0["statement_no"] }, [1, 2])
        XCTAssertEqual(all.first?["phase"], "statement")
        let lines = all.filter { $0["phase"] != "statement" }
        XCTAssertEqual(lines.count, 4)
        guard lines.count == 4, raw.count == 4 else { return }
        XCTAssertEqual(
            lines[0].map(\.key),
            ["time", "statement_no", "statement", "host", "phase", "op", "id", "userName", "before"])
        XCTAssertEqual(
            lines[1].map(\.key),
            [
                "time", "statement_no", "statement", "host", "phase", "op", "id", "userName", "before", "after",
                "outcome",
            ])
        XCTAssertTrue(raw[0].hasPrefix(#"{"time":""#), raw[0])
        XCTAssertTrue(
            raw[0].contains(#","statement":"find userName eq \"bjensen\" | patch displayName=\"Say \\\"hi\\\"\"","#),
            raw[0])
        XCTAssertEqual(lines.map { $0["statement_no"]?.numberValue }, [1, 1, 2, 2])
        XCTAssertEqual(lines[2]["statement"]?.stringValue, #"find userName eq "bjensen" | patch displayName="Again""#)
        XCTAssertEqual(lines[0]["before"], lines[1]["before"])
        XCTAssertEqual(lines[1]["after"]?.objectValue?["displayName"]?.stringValue, #"Say "hi""#)
        XCTAssertEqual(lines[3]["before"]?.objectValue?["displayName"]?.stringValue, #"Say "hi""#)
    }

    // MARK: plans with per-record values and undo

    /// A dry run of `import CSV | patch displayName` reads each user and shows old → new, sending no write.
    func testDryRunOfPerRecordPatchShowsTheRealChange() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        let csv = try resources.temporaryPath("r.csv")
        try "id,displayName\n2819c223-7f76-453a-919d-413861904646,Babs\n".write(
            toFile: csv, atomically: true, encoding: .utf8)
        server.clearLog()
        await runOK(shell, sink, "set dry_run = on; import \(csv) | patch displayName | count")
        XCTAssertEqual(writes(server), [])
        XCTAssertTrue(
            sink.messages.contains(
                #"would patch user bjensen (2819c223-7f76-453a-919d-413861904646): displayName: "Barbara Jensen" → "Babs""#
            ),
            sink.messages)
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Barbara Jensen")
    }

    /// The plan of an undo shows what it changes back, from the state the undone statement left.
    func testUndoPlanShowsTheChangeBack() async throws {
        let server = try await makeServer()
        let (shell, sink) = makeShell(server, journal: try makeJournalPath())
        await runOK(shell, sink, #"find userName eq "bjensen" | patch displayName="Temp""#)
        sink.reset()
        await runOK(shell, sink, "set dry_run = on; undo")
        XCTAssertTrue(sink.messages.contains(#"displayName: "Temp" → "Barbara Jensen""#), sink.messages)
        XCTAssertFalse(sink.messages.contains("never got an answer"), sink.messages)
        XCTAssertEqual(user(server, "bjensen")?["displayName"], "Temp", "a dry run changes nothing")
    }
}
