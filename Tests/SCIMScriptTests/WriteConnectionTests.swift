import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import Synchronization
import XCTest

@testable import SCIMClient
@testable import SCIMScript

/// Bulk writes keep twice `concurrency` operations going (the second half prepared and waiting in line at the
/// transport), yet the server never gets more than `concurrency` connections, so never more requests at once.
final class WriteConnectionTests: InterpreterTestCase {
    func testBulkWriteUsesConcurrencyConnectionsAndNoMore() async throws {
        let h = try await makeHarness(generatedUsers: 120, seedUsers: false) { $0.latency = .milliseconds(3) }
        await h.expectSuccess(#"set concurrency = 3; find | patch displayName="C" | count"#)
        XCTAssertEqual(h.data.split(separator: "\n").last, "120", h.data)
        let transport = try XCTUnwrap(h.interpreter.sharedTransport as? NIOHTTPTransport)
        let (open, limit) = transport.pool.state.withLock { ($0.open.count, $0.limit) }
        XCTAssertEqual(limit, 3, "the write stage capped the connections at its concurrency")
        XCTAssertEqual(open, 3, "and used all of them")
        XCTAssertEqual(h.server.users().filter { $0["displayName"] == "C" }.count, 120)
        XCTAssertEqual(Set(h.requests("PATCH").map(\.uri)).count, 120, "each user patched once")

        // A later statement with another concurrency sets its own cap.
        await h.expectSuccess(#"set concurrency = 5; find | patch displayName="D" | count"#)
        XCTAssertEqual(transport.pool.state.withLock { $0.limit }, 5)
        XCTAssertLessThanOrEqual(transport.pool.state.withLock { $0.open.count }, 5)

        // A reading stage with more concurrency is not held to the last write's cap.
        await h.expectSuccess("set concurrency = 12; find | get | count")
        XCTAssertEqual(transport.pool.state.withLock { $0.limit }, 12)
    }
}
