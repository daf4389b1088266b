import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// Runs the built `embed-example` (examples/embed/main.swift): a program that embeds the interpreter, adds the
/// `domain-count` command and reads results both as printed text and as values, and adds the `copy-attribute`
/// write, which `explain` lists the PATCH of, completion offers attributes for, and a dry run plans while the
/// sandbox's request log shows no request other than GET (a real run then sends one PATCH).
final class EmbedExampleTests: XCTestCase {
    func testEmbedExampleCountsDomainsAndItsWriteIsExplainedCompletedAndDryRun() throws {
        try E2E.requireBinary(E2E.embedExamplePath)
        let r = try Fixtures.run(E2E.embedExamplePath, [], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        // Seed users: 5 active at example.org, 1 at example.com; plus 3 generated users at example.net.
        XCTAssertEqual(
            r.stdout,
            """
            domain-count as a table:
            domain       users
            -----------  -----
            example.org  5
            example.net  3
            example.com  1
            domain-count as values (.org addresses only):
              example.org: 5 users
            active users: 9
            error as a value: domain-count takes no arguments
            explain:
              2. copy-attribute (sends writes)
              argument: "externalId"
              PATCH {host}/api/v1/scim/Users/{id}
              "externalId": "<each record's userName>"
            completion of 'find | copy-attribute userName ext': externalId
            dry run:
              would copy user bjensen (2819c223-7f76-453a-919d-413861904646): externalId: "701984" → "bjensen"
              dry run: would have copied 1 user; nothing was sent
              requests other than GET: 0
            real run: copied 1 user, status success
              PATCH requests: 1

            """)
    }
}

/// Runs the built `bulk-patch-example` (examples/bulk-patch/main.swift): the SCIMClient library alone lists and
/// patches every active user of a sandbox.
final class BulkPatchExampleTests: XCTestCase {
    func testPatchesEveryActiveUserAndReportsTheCount() async throws {
        try E2E.requireBinary(E2E.bulkPatchExamplePath)
        let server = try await Fixtures.sandbox(generatedUsers: 250)
        defer { Task { await server.stop() } }
        let before = server.sandbox.users().filter { $0["active"] == .bool(true) }.count
        let r = try Fixtures.run(
            E2E.bulkPatchExamplePath, ["Renamed by the library", "4"],
            environment: ["SCIMSH_HOST": E2E.hostURL(server), "SCIMSH_TOKEN": server.sandbox.configuration.adminToken])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        XCTAssertTrue(r.stdout.hasPrefix("patched \(before) users, 0 failed in "), r.stdout)
        let active = server.sandbox.users().filter { $0["active"] == .bool(true) }
        XCTAssertEqual(active.count, before)
        XCTAssertTrue(active.allSatisfy { $0["displayName"] == .string("Renamed by the library") })
        let patches = server.requestLog().filter { $0.method == "PATCH" }
        XCTAssertEqual(patches.count, before)
        XCTAssertTrue(patches.allSatisfy { $0.status == 200 })
    }

    func testUsageErrorsExitTwoAndTheTokenStaysOutOfTheArguments() throws {
        try E2E.requireBinary(E2E.bulkPatchExamplePath)
        let noEnvironment = try Fixtures.run(E2E.bulkPatchExamplePath, ["x"])
        XCTAssertEqual(noEnvironment.status, 2)
        XCTAssertTrue(noEnvironment.stderr.contains("usage: SCIMSH_HOST=URL SCIMSH_TOKEN=TOKEN"), noEnvironment.stderr)
        let badConcurrency = try Fixtures.run(
            E2E.bulkPatchExamplePath, ["x", "0"],
            environment: ["SCIMSH_HOST": "http://127.0.0.1:9", "SCIMSH_TOKEN": "t0ken-value"])
        XCTAssertEqual(badConcurrency.status, 2)
        XCTAssertEqual(badConcurrency.stderr, "bulk-patch-example: CONCURRENCY must be a number from 1 to 256\n")
    }

    func testAnUnreachableServerIsAClearFailure() throws {
        try E2E.requireBinary(E2E.bulkPatchExamplePath)
        let r = try Fixtures.run(
            E2E.bulkPatchExamplePath, ["x"],
            environment: ["SCIMSH_HOST": "http://127.0.0.1:9", "SCIMSH_TOKEN": "t0ken-value"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("cannot reach the server: connection refused"), r.stderr)
        XCTAssertFalse(r.stderr.contains("t0ken-value"))
    }
}
