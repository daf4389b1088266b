import SCIMCore
import XCTest

@testable import SCIMClient

/// Retry-After values no sane server sends (a year that overflows, a number of seconds beyond any clock): the
/// client must neither trap nor wait for them. The sandbox sends only small whole seconds, so a stub answers.
final class HostileRetryAfterTests: XCTestCase {
    static let hostile = [
        "Wed, 21 Oct 99999999999 07:28:00 GMT", "Wed, 99999999999 Oct 2015 07:28:00 GMT",
        "Wed, 21 Oct 2015 99999999999:28:00 GMT", "1e16", "1e300", "99999999999999999999",
    ]

    func testAHostileRetryAfterOnAnErrorIsReportedNotATrap() async throws {
        for value in Self.hostile {
            let stub = StubTransport(
                status: 404, contentType: "application/scim+json", body: #"{"detail":"gone"}"#,
                headers: [("Retry-After", value)])
            let e = try await expectError { try await stub.client().getUser(id: "u-1") }
            XCTAssertEqual(e.status, 404, value)
        }
    }

    func testAHostileRetryAfterOn429And503WaitsNoLongerThanTheCap() async throws {
        for status in [429, 503] {
            for value in Self.hostile {
                let stub = StubTransport(
                    status: status, contentType: "application/scim+json", body: #"{"detail":"busy"}"#,
                    headers: [("Retry-After", value)])
                let start = ContinuousClock.now
                let e = try await expectError { try await stub.client(retry: fastRetry).getUser(id: "u-1") }
                XCTAssertEqual(e.status, status, value)
                XCTAssertEqual(stub.requests.count, fastRetry.maxAttempts, "retried within the cap: \(value)")
                XCTAssertLessThan(seconds(since: start), 5, value)
            }
        }
    }

    func testARetryAfterBecomesADelayOfAtMostADay() {
        for value in Self.hostile {
            let delay = SCIMClient.parseRetryAfter(value).flatMap(SCIMClient.retryDelay)
            XCTAssertLessThanOrEqual(delay ?? .zero, .seconds(86_400), value)
        }
        XCTAssertNil(SCIMClient.retryDelay(seconds: .nan))
        XCTAssertNil(SCIMClient.retryDelay(seconds: -1))
        XCTAssertEqual(SCIMClient.retryDelay(seconds: 1.5), .milliseconds(1500))
    }
}
