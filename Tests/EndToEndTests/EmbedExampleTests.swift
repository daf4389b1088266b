import Foundation
import SCIMTestSupport
import XCTest

/// Runs the built `embed-example` (examples/embed/main.swift): a program that embeds the interpreter, adds the
/// `domain-count` command and reads results both as printed text and as values.
final class EmbedExampleTests: XCTestCase {
    func testEmbedExamplePrintsDomainCountsAndExitsZero() throws {
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

            """)
    }
}
