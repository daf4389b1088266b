import HTTPTypes
import HummingbirdTesting
import SCIMSandbox
import XCTest

/// `scimsh sandbox --rate-limit N`: a token bucket of N a second in front of every route.
final class RateLimitTests: XCTestCase {
    func testRequestsOverTheBucketGet429WithRetryAfterAndNeverReachTheSandbox() async throws {
        var configuration = SandboxConfiguration()
        configuration.rateLimit = 5
        try await withSandbox(configuration) { sandbox, client in
            var statuses: [Int] = []
            for _ in 0..<8 { statuses.append(try await client.send(.get, "/Users?count=1").status) }
            XCTAssertEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429], "a burst of a second's worth")
            let r = try await client.send(.get, "/Users?count=1")
            XCTAssertEqual(r.status, 429)
            XCTAssertEqual(r.headers[.retryAfter], "1")
            XCTAssertEqual(r.errorMessage, "Too many requests: the rate limit is 5 per second")
            XCTAssertEqual(sandbox.requestLog().count, 5, "refused requests do not reach the sandbox")
            try await Task.sleep(for: .milliseconds(450))
            let refilled = try await client.send(.get, "/Users?count=1")
            XCTAssertEqual(refilled.status, 200, "the bucket refills")
        }
    }

    func testNoLimitPassesEverything() async throws {
        try await withSandbox(SandboxConfiguration()) { _, client in
            for _ in 0..<50 {
                let r = try await client.send(.get, "/Users?count=1")
                XCTAssertEqual(r.status, 200)
            }
        }
    }
}
