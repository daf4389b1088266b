import HTTPTypes
import HummingbirdTesting
import NIOCore
import SCIMCore
import SCIMSandbox
import XCTest

final class FaultTests: XCTestCase {
    func testFailFirstAnswers503WithRetryAfterThenRecovers() async throws {
        try await withSandbox(SandboxConfiguration(failFirst: 2, retryAfterSeconds: 3)) { sandbox, client in
            for _ in 0..<2 {
                let r = try await client.send(.get, "/Users/\(bjensenId)")
                XCTAssertEqual(r.status, 503)
                XCTAssertEqual(r.headers[.retryAfter], "3")
                XCTAssertTrue(r.contentType?.hasPrefix("text/html") ?? false)
            }
            assertStatus(try await client.send(.get, "/Users/\(bjensenId)"), 200)
            XCTAssertEqual(sandbox.requestLog().map(\.status), [503, 503, 200])
        }
    }

    func testInjectedFaultsComeBeforeAuthAndDoNotWrite() async throws {
        try await withSandbox(SandboxConfiguration(failFirst: 1)) { sandbox, client in
            let r = try await client.send(.delete, "/Users/\(bjensenId)", auth: .none)
            XCTAssertEqual(r.status, 503)
            XCTAssertEqual(sandbox.user(id: bjensenId)?["active"], true)
        }
    }

    func testFailureRateIsDeterministicForASeed() async throws {
        func statuses(seed: UInt64) async throws -> [Int] {
            let sandbox = Sandbox(configuration: SandboxConfiguration(failureRate: 0.5, seed: seed))
            try await sandbox.makeApplication().test(.router) { client in
                for _ in 0..<40 { _ = try await client.send(.get, "/Users?count=1") }
            }
            return sandbox.requestLog().map(\.status)
        }
        let a = try await statuses(seed: 7)
        let b = try await statuses(seed: 7)
        XCTAssertEqual(a, b)
        let failures = a.filter { $0 == 503 }.count
        XCTAssertGreaterThan(failures, 5)
        XCTAssertLessThan(failures, 35)
        XCTAssertEqual(Set(a), [200, 503])
    }

    func testFailureRateOneFailsEverythingAndZeroNothing() async throws {
        try await withSandbox(SandboxConfiguration(failureRate: 1)) { sandbox, client in
            for _ in 0..<5 { assertStatus(try await client.send(.get, "/Users"), 503) }
            sandbox.setFaults(failureRate: 0)
            assertStatus(try await client.send(.get, "/Users"), 200)
        }
    }

    func testFailNextWith500And429() async throws {
        try await withSandbox { sandbox, client in
            sandbox.failNext(.internalServerError)
            sandbox.failNext(.tooManyRequests, count: 2)
            let e500 = try await client.send(.get, "/Users")
            XCTAssertEqual(e500.status, 500)
            XCTAssertNotNil(e500.errorMessage)
            XCTAssertNil(e500.json?["schemas"])
            XCTAssertEqual(e500.contentType, "application/json")
            for _ in 0..<2 {
                let e429 = try await client.send(.get, "/Users")
                XCTAssertEqual(e429.status, 429)
                XCTAssertEqual(e429.headers[.retryAfter], "1")
            }
            assertStatus(try await client.send(.get, "/Users"), 200)
        }
    }

    func testSetFaultsRestartsFailFirstCount() async throws {
        try await withSandbox { sandbox, client in
            assertStatus(try await client.send(.get, "/Users"), 200)
            sandbox.setFaults(SandboxFaults(failFirst: 1, retryAfterSeconds: 0))
            XCTAssertEqual(sandbox.faults.failFirst, 1)
            let r = try await client.send(.get, "/Users")
            XCTAssertEqual(r.status, 503)
            XCTAssertEqual(r.headers[.retryAfter], "0")
            assertStatus(try await client.send(.get, "/Users"), 200)
        }
    }

    func testLatencyDelaysEveryRequest() async throws {
        try await withSandbox(SandboxConfiguration(latency: .milliseconds(150))) { sandbox, client in
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                assertStatus(try await client.send(.get, "/Users/\(bjensenId)"), 200)
            }
            XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(150))
            sandbox.setFaults(latency: .zero)
            let fast = try await clock.measure { _ = try await client.send(.get, "/Users/\(bjensenId)") }
            XCTAssertLessThan(fast, .milliseconds(150))
        }
    }
}
