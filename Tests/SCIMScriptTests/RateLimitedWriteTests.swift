import SCIMCore
import SCIMSandbox
import XCTest

/// A bulk statement against a rate-limited server (`--rate-limit`): the client honours 429 and Retry-After and
/// adapts its concurrency, so no write fails; the summary says the server pushed back.
final class RateLimitedWriteTests: InterpreterTestCase {
    func testABulkPatchUnderARateLimitLosesNoWrite() async throws {
        let h = try await makeHarness(generatedUsers: 300) { config in
            config.rateLimit = 100
            config.latency = .milliseconds(5)
        }
        await h.expectSuccess(#"set concurrency = 16; find | patch displayName="Rated" | count"#)
        XCTAssertTrue(h.messages.contains("the server answered 429/503"), h.messages)
        XCTAssertFalse(h.messages.contains("failed"), h.messages)
        XCTAssertFalse(h.messages.contains("error"), h.messages)
        let patched = h.server.users().filter { $0["displayName"]?.stringValue == "Rated" }.count
        XCTAssertGreaterThanOrEqual(patched, 300, "every listed user was patched")
        XCTAssertEqual(h.data.split(separator: "\n").last.map(String.init), String(patched), h.data)
    }
}
