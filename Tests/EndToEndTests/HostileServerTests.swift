import Foundation
import SCIMTestSupport
import XCTest

/// The built binary against servers that break HTTP, JSON and paging on purpose (``HostileServer``): each run must
/// end with a clear error and exit status 1, within a bound, with its peak resident memory bounded, and never send
/// the token anywhere but the host it was given.
final class HostileServerTests: XCTestCase {
    static let token = "hostile-test-token-0123456789"

    /// One watched run of the binary.
    struct WatchedRun {
        /// The exit status, or `nil` when the run was still going at the bound (it is then killed).
        var status: Int32?
        var stdout: String
        var stderr: String
        var seconds: Double
        var peakBytes: Int

        var peakMiB: Int { peakBytes >> 20 }
    }

    /// Runs `scimsh ARGS` with the token in the environment, polling its peak memory, for at most `bound`.
    static func watch(
        _ arguments: [String], bound: Duration = .seconds(30), directory: String? = nil
    ) async throws -> WatchedRun {
        try E2E.requireBinary(Fixtures.scimshPath)
        let dir = try directory ?? Fixtures.temporaryDirectory()
        let env = try E2E.isolatedEnvironment([
            "SCIMSH_TOKEN": token, "HOME": dir, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ])
        let start = ContinuousClock.now
        let child = try ChildProcess.start([Fixtures.scimshPath] + arguments, in: dir, environment: env)
        var peak = 0
        while ContinuousClock.now - start < bound {
            if let p = child.peakResidentBytes { peak = max(peak, p) }
            if child.exitStatus != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let status = child.exitStatus
        if status == nil { child.stop() }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return WatchedRun(
            status: status, stdout: child.stdout(), stderr: child.stderr(), seconds: seconds, peakBytes: peak)
    }

    /// Asserts the common promises of a hostile case: exit 1, the message, within `seconds`, at most `maxMiB`
    /// resident, no token in the output.
    func assertHandled(
        _ run: WatchedRun, _ label: String, message: String, seconds: Double, maxMiB: Int = 150,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let context =
            "\(label): exit \(run.status.map(String.init) ?? "none (killed)"), \(run.seconds) s, "
            + "\(run.peakMiB) MiB\nstdout:\n\(run.stdout)\nstderr:\n\(run.stderr)"
        print("HostileServerTests: \(label): exit \(run.status ?? -1), \(run.seconds) s, peak \(run.peakMiB) MiB")
        XCTAssertEqual(run.status, 1, context, file: file, line: line)
        XCTAssertTrue(run.stderr.contains("error"), context, file: file, line: line)
        XCTAssertTrue(
            run.stderr.contains(message), "expected \(message.debugDescription)\n" + context, file: file, line: line)
        XCTAssertLessThan(run.seconds, seconds, context, file: file, line: line)
        XCTAssertGreaterThan(run.peakBytes, 0, "the peak memory was read: " + context, file: file, line: line)
        XCTAssertLessThan(run.peakMiB, Sanitizer.memoryBound(mib: maxMiB), context, file: file, line: line)
        XCTAssertFalse((run.stdout + run.stderr).contains(Self.token), context, file: file, line: line)
    }

    /// Each case of ``HostileServer/Case`` against the statement that meets it, with the message expected.
    static let cases: [(HostileServer.Case, String, String, Double)] = [
        (.badStatusLine, "get u-1", "not valid HTTP (invalid HTTP status code) (GET http://", 10),
        (.hugeHeaders, "get u-1", "not valid HTTP (too many header bytes", 10),
        (.conflictingLengths, "get u-1", "not valid HTTP", 10),
        (.badChunks, "get u-1", "not valid HTTP (invalid character in chunk size", 10),
        (.truncatedBody, "get u-1", "answer was cut short", 10),
        (.endlessBody, "get u-1", "larger than 64 MiB", 30),
        (.gzipUnasked, "get u-1", "unpacks to more than 64 MiB", 20),
        (.invalidUTF8, "get u-1", "invalid UTF-8", 10),
        (.deepJSON, "get u-1", "nesting too deep", 10),
        (.millionResources, "find | count", "1000000 Resources for a page of 100", 15),
        (.repeatingPages, "find | count", "answered startIndex 1; stopped here", 15),
        (.lyingTotal, "find | count", "counts 250 users (totalResults) but sent none from position 101", 15),
        // Waiting cases end by the statement's deadline.
        (.slowloris, "set statement_timeout = 4; get u-1", "statement_timeout = 4", 8),
        (.continueStorm, "set statement_timeout = 4; get u-1", "statement_timeout = 4", 8),
        (.badRetryAfter, "set statement_timeout = 4; get u-1", "429", 8),
    ]

    func testEachHostileCaseEndsInAClearErrorWithinBoundsOfTimeAndMemory() async throws {
        for (hostile, statement, message, seconds) in Self.cases {
            let server = try HostileServer(handler: hostile.handler)
            defer { server.stop() }
            let run = try await Self.watch(
                ["--host", server.origin, "-c", "set timeout = 2; " + statement], bound: .seconds(seconds + 10))
            assertHandled(run, hostile.rawValue, message: message, seconds: seconds)
            XCTAssertFalse(server.requests.isEmpty, "\(hostile): the server was asked")
        }
    }

    /// A redirect to another origin is an error, and the token never reaches that origin (a second listener
    /// records what it gets).
    func testARedirectToAnotherHostIsAnErrorAndTheTokenStaysHome() async throws {
        let elsewhere = try HostileServer(
            handler: HostileServer.respond(status: 200, body: HostileServer.user("u-1")))
        defer { elsewhere.stop() }
        for status in [301, 302, 307, 308] {
            let server = try HostileServer(
                handler: HostileServer.respond(
                    status: status, reason: "Moved",
                    headers: [("Location", elsewhere.origin + "/api/v1/scim/Users/u-1")], body: ""))
            defer { server.stop() }
            let run = try await Self.watch(["--host", server.origin, "-c", "get u-1"])
            assertHandled(run, "redirect \(status)", message: "\(status)", seconds: 10)
            XCTAssertEqual(server.apiRequests.count, 1, "not retried: \(status)")
            XCTAssertEqual(
                server.apiRequests.first?.header("Authorization"), "Bearer \(Self.token)",
                "the token went to the host it was given")
        }
        XCTAssertTrue(elsewhere.requests.isEmpty, "nothing, and no token, reached the other host")
    }

    /// A server that accepts and never answers: `timeout` bounds each attempt, `statement_timeout` the whole
    /// statement (retries included), and `help variables` says which is which.
    func testAStalledServerCostsStatementTimeoutNotEveryRetry() async throws {
        let stall = try HostileServer { _, connection in connection.pause(120) }
        defer { stall.stop() }
        let bounded = try await Self.watch(
            ["--host", stall.origin, "-c", "set timeout = 2; set statement_timeout = 3; get u-1"])
        assertHandled(bounded, "stalled, statement_timeout 3", message: "statement_timeout = 3", seconds: 6)
        XCTAssertGreaterThan(bounded.seconds, 2.5, "it waited for the server until the deadline")

        let attempts = stall.apiRequests.count
        let unbounded = try await Self.watch(["--host", stall.origin, "-c", "set timeout = 2; get u-1"])
        assertHandled(unbounded, "stalled, no statement_timeout", message: "timed out", seconds: 20)
        XCTAssertGreaterThan(unbounded.seconds, 8, "four attempts of 2 s and the backoff: \(unbounded.seconds)")
        XCTAssertEqual(stall.apiRequests.count - attempts, 4, "every attempt was sent")

        let help = try await Self.watch(["-c", "help variables"])
        XCTAssertEqual(help.status, 0, help.stderr)
        let lines = help.stdout.split(separator: "\n")
        XCTAssertTrue(
            lines.contains { $0.contains("statement_timeout") && $0.contains("whole statement") }, help.stdout)
        XCTAssertTrue(lines.contains { $0.contains("timeout") && $0.contains("one attempt") }, help.stdout)
    }

    /// `set concurrency = 64` with parallel gets of large answers: answers over 1 MiB are read and decoded one at a
    /// time, so memory does not grow with the concurrency (it reached 2.25 GB).
    func testParallelGetsOfLargeAnswersKeepMemoryBounded() async throws {
        let ids = (1...64).map { "u\($0)" }
        // About 8 MiB per user.
        let big = ",\"x-big\":\"" + String(repeating: "x", count: 8 << 20) + "\""
        let bigUser = HostileServer.response(status: 200, body: Array(HostileServer.user("u", extra: big).utf8))
        let list = HostileServer.listResponse(ids.map { HostileServer.user($0) }, total: ids.count, start: 1)
        let server = try HostileServer { request, connection in
            if request.target.contains("/Users?") {
                connection.write(HostileServer.response(status: 200, body: Array(list.utf8)))
            } else {
                // Held back a moment, so that the 64 answers are all under way together.
                connection.pause(0.3)
                connection.write(bigUser)
            }
        }
        defer { server.stop() }
        let run = try await Self.watch(
            ["--host", server.origin, "-c", "set concurrency = 64; find | get | count"], bound: .seconds(120))
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout.split(separator: "\n").last.map(String.init), "64", run.stdout + run.stderr)
        XCTAssertEqual(server.apiRequests.count, 65)
        print("HostileServerTests: 64 parallel gets of 8 MiB: \(run.seconds) s, peak \(run.peakMiB) MiB")
        XCTAssertLessThan(
            run.peakMiB, Sanitizer.memoryBound(mib: 300), "peak \(run.peakMiB) MiB for 64 answers of 8 MiB")
    }

    /// `import` of a large JSON array parses one element at a time (a 71 MB file took 1.9 GB).
    func testImportOfALargeJSONArrayKeepsMemoryBounded() async throws {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir + "/big.json"
        var text = "[\n"
        let count = 150_000
        for i in 0..<count {
            text +=
                #"{"userName":"user\#(i)","displayName":"User Number \#(i)","title":"Engineer","#
                + #""emails":[{"value":"user\#(i)@example.com","type":"work","primary":true}],"active":true}"#
            text += i == count - 1 ? "\n" : ",\n"
        }
        text += "]\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let size = text.utf8.count
        text = ""
        let run = try await Self.watch(["-c", "import \"\(path)\" | count"], bound: .seconds(120), directory: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout.split(separator: "\n").last.map(String.init), String(count), run.stdout + run.stderr)
        print("HostileServerTests: import of \(size >> 20) MiB JSON array: \(run.seconds) s, peak \(run.peakMiB) MiB")
        XCTAssertLessThan(
            run.peakBytes, Sanitizer.memoryBound(3 * size + (80 << 20)),
            "peak \(run.peakMiB) MiB for a \(size >> 20) MiB file")
    }
    /// A server that matches a caseExact attribute (RFC 7643: externalId) ignoring case: `lookup` checks the answer
    /// as `find` does, with the attribute's caseExact, so `e-1` does not take the user whose externalId is `E-1`.
    func testLookupChecksTheAnswerWithCaseExact() async throws {
        let server = try HostileServer { request, connection in
            guard request.target.contains("/Users") else {
                connection.write(HostileServer.response(status: 404, body: Array("{}".utf8)))
                return
            }
            let user = HostileServer.user("u-1", extra: #","externalId":"E-1""#)
            let body = HostileServer.listResponse([user], total: 1, start: 1)
            connection.write(HostileServer.response(status: 200, body: Array(body.utf8)))
        }
        defer { server.stop() }
        let dir = try Fixtures.temporaryDirectory()
        for (value, status, expected) in [("e-1", Int32(1), #"no user with externalId eq "e-1""#), ("E-1", 0, "u-1")] {
            try "externalId\n\(value)\n".write(toFile: dir + "/ids.csv", atomically: true, encoding: .utf8)
            let run = try await Self.watch(
                ["--host", server.origin, "-c", "set dialect = rfc; import \(dir)/ids.csv | lookup externalId | csv"],
                directory: dir)
            XCTAssertEqual(run.status, status, run.stdout + run.stderr)
            XCTAssertTrue((run.stdout + run.stderr).contains(expected), run.stdout + run.stderr)
        }
    }
}
