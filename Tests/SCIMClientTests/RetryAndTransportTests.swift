import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// Retries against the sandbox's injected faults, refused connections and timeouts.
final class RetryAndTransportTests: XCTestCase {
    func testGetSucceedsAfterInjected503s() async throws {
        try await withSandbox { server, client in
            server.setFaults(failFirst: 2)
            server.clearLog()
            let user = try await client.getUser(id: Seed.bjensen)
            XCTAssertEqual(user.userName, "bjensen")
            XCTAssertEqual(statuses(server), [503, 503, 200])
        }
    }

    func testEveryIdempotentOperationRetries503() async throws {
        try await withSandbox { server, client in
            server.failNext(.serviceUnavailable)
            _ = try await client.findUsers(filter: #"userName eq "bjensen""#)
            server.failNext(.serviceUnavailable)
            _ = try await client.patchUser(
                id: Seed.alice, operations: [.init(op: .replace, path: "displayName", value: "Retried")])
            server.failNext(.serviceUnavailable)
            try await client.deleteUser(id: Seed.alice)
            XCTAssertEqual(
                server.requestLog().map(\.description),
                [
                    "GET /api/v1/scim/Users?filter=userName%20eq%20%22bjensen%22&startIndex=1 -> 503",
                    "GET /api/v1/scim/Users?filter=userName%20eq%20%22bjensen%22&startIndex=1 -> 200",
                    "PATCH /api/v1/scim/Users/\(Seed.alice) -> 503",
                    "PATCH /api/v1/scim/Users/\(Seed.alice) -> 200",
                    "DELETE /api/v1/scim/Users/\(Seed.alice) -> 503",
                    "DELETE /api/v1/scim/Users/\(Seed.alice) -> 204",
                ])
        }
    }

    func testGivesUpAfterMaxAttempts() async throws {
        try await withSandbox { server, client in
            server.failNext(.serviceUnavailable, count: 10)
            server.clearLog()
            let e = try await expectError { try await client.getUser(id: Seed.bjensen) }
            XCTAssertEqual(e.status, 503)
            XCTAssertEqual(statuses(server), [503, 503, 503, 503])
        }
    }

    func testWithoutRetries503IsAnErrorDescribingTheHTMLBody() async throws {
        try await withSandbox(retry: .none) { server, client in
            server.setFaults(failFirst: 1)
            server.clearLog()
            let e = try await expectError { try await client.getUser(id: Seed.bjensen) }
            XCTAssertTrue(e.isHTTPError)
            XCTAssertEqual(e.status, 503)
            XCTAssertEqual(e.retryAfterSeconds, 0)
            XCTAssertTrue(e.detail.contains("text/html"), e.detail)
            XCTAssertTrue(e.detail.contains("503 Service Temporarily Unavailable"), e.detail)
            XCTAssertTrue(
                e.description.hasPrefix("503 Service Unavailable: body is not JSON (text/html"), e.description)
            XCTAssertEqual(statuses(server), [503])
        }
    }

    func testPostIsNotRetriedOn503() async throws {
        try await withSandbox { server, client in
            let count = server.sandbox.userCount
            server.setFaults(failFirst: 1)
            server.clearLog()
            let e = try await expectError { try await client.createUser(newUser("no.retry")) }
            XCTAssertEqual(e.status, 503)
            XCTAssertEqual(e.method, "POST")
            XCTAssertEqual(server.requestLog().count, 1)
            XCTAssertEqual(server.sandbox.userCount, count)
        }
    }

    func testPatchWithAnAddIsNotRetriedOn503() async throws {
        try await withSandbox { server, client in
            server.failNext(.serviceUnavailable)
            server.clearLog()
            let e = try await expectError {
                try await client.patchUser(
                    id: Seed.alice, operations: [.init(op: .add, path: "displayName", value: "X")])
            }
            XCTAssertEqual(e.status, 503)
            XCTAssertEqual(statuses(server), [503])
        }
    }

    func testPostIsRetriedOn429HonouringRetryAfter() async throws {
        let retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .seconds(5))
        try await withSandbox(configure: { $0.retryAfterSeconds = 1 }, retry: retry) { server, client in
            server.failNext(.tooManyRequests)
            server.clearLog()
            let start = ContinuousClock.now
            let user = try await client.createUser(newUser("patient"))
            let elapsed = seconds(since: start)
            XCTAssertEqual(user.userName, "patient")
            XCTAssertEqual(statuses(server), [429, 201])
            XCTAssertGreaterThanOrEqual(elapsed, 0.95, "Retry-After: 1 was not honoured")
            XCTAssertLessThan(elapsed, 3)
        }
    }

    func testRetryAfterIsCappedByMaxDelay() async throws {
        let retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(20))
        try await withSandbox(configure: { $0.retryAfterSeconds = 30 }, retry: retry) { server, client in
            server.failNext(.tooManyRequests)
            server.clearLog()
            let start = ContinuousClock.now
            _ = try await client.getUser(id: Seed.bjensen)
            XCTAssertLessThan(seconds(since: start), 2)
            XCTAssertEqual(statuses(server), [429, 200])
        }
    }

    func testWithoutRetries429CarriesRetryAfterAndTheMessage() async throws {
        try await withSandbox(configure: { $0.retryAfterSeconds = 7 }, retry: .none) { server, client in
            server.failNext(.tooManyRequests)
            let e = try await expectError { try await client.findUsers() }
            XCTAssertEqual(e.status, 429)
            XCTAssertEqual(e.retryAfterSeconds, 7)
            XCTAssertEqual(e.detail, "Too many requests (injected by the scimsh sandbox)")
            XCTAssertTrue(e.description.hasPrefix("429 Too Many Requests: Too many requests"), e.description)
        }
    }

    func testRefusedConnectionFailsFastWithATransportError() async throws {
        // A port nothing listens on: a sandbox's port after the sandbox stopped.
        let stopped = try await Fixtures.sandbox()
        let port = stopped.port
        await stopped.stop()

        let observer = RecordingObserver()
        let client = SCIMClient(
            configuration: SCIMConfiguration(
                host: "http://127.0.0.1:\(port)", auth: .bearer(Tokens.admin), timeout: .seconds(10), retry: fastRetry),
            observer: observer)
        let start = ContinuousClock.now
        let get = try await expectError { try await client.getUser(id: Seed.bjensen) }
        let elapsed = seconds(since: start)
        let post = try await expectError { try await client.createUser(newUser("nobody")) }
        await client.shutdown()

        for e in [get, post] {
            XCTAssertTrue(e.isTransportError, e.description)
            XCTAssertFalse(e.isHTTPError)
            XCTAssertNil(e.status)
            XCTAssertEqual(e.detail, "connection refused")
            XCTAssertTrue(e.description.contains("connection refused"), e.description)
            XCTAssertTrue(e.description.hasPrefix("cannot reach the server: "), e.description)
        }
        XCTAssertTrue(get.description.hasSuffix("(GET http://127.0.0.1:\(port)/api/v1/scim/Users/\(Seed.bjensen))"))
        XCTAssertLessThan(elapsed, 2, "a refused connection must not wait for the 10 s timeout")
        // Nothing was sent, so every attempt is made, even for POST.
        XCTAssertEqual(observer.attempts, [1, 2, 3, 4, 1, 2, 3, 4])
        XCTAssertEqual(observer.failures.count, 8)
        XCTAssertEqual(observer.statuses, [])
    }

    func testTimeoutIsATransportErrorAndGetIsRetried() async throws {
        let retry = RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
        try await withSandbox(
            configure: { $0.latency = .milliseconds(600) }, retry: retry, timeout: .milliseconds(100)
        ) { server, client in
            let observer = RecordingObserver()
            let watched = client.with(observer: observer)
            let start = ContinuousClock.now
            let e = try await expectError { try await watched.getUser(id: Seed.bjensen) }
            let elapsed = seconds(since: start)
            XCTAssertTrue(e.isTransportError, e.description)
            XCTAssertTrue(e.detail.contains("timed out"), e.detail)
            XCTAssertTrue(e.description.hasPrefix("cannot reach the server: timed out"), e.description)
            XCTAssertEqual(observer.attempts, [1, 2])
            XCTAssertLessThan(elapsed, 0.55, "the client waited for the server instead of its own timeout")
        }
    }

    func testTimeoutOfAPostIsNotRetried() async throws {
        let retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5))
        try await withSandbox(
            configure: { $0.latency = .milliseconds(400) }, retry: retry, timeout: .milliseconds(100)
        ) { _, client in
            let observer = RecordingObserver()
            let watched = client.with(observer: observer)
            let e = try await expectError { try await watched.createUser(newUser("slowpoke")) }
            XCTAssertTrue(e.isTransportError, e.description)
            XCTAssertEqual(observer.attempts, [1], "a POST that may have reached the server was sent again")
        }
    }

    func testObserverSeesEveryAttempt() async throws {
        try await withSandbox { server, client in
            let observer = RecordingObserver()
            let watched = client.with(observer: observer)
            server.failNext(.serviceUnavailable, count: 2)
            _ = try await watched.getUser(id: Seed.bjensen)
            XCTAssertEqual(observer.attempts, [1, 2, 3])
            XCTAssertEqual(observer.statuses, [503, 503, 200])
            XCTAssertEqual(observer.failures, [])
        }
    }

    /// `GET bjensen` in a task of its own, returning its error (nil when it succeeds).
    func getInBackground(_ client: SCIMClient) -> Task<SCIMError?, Never> {
        Task {
            do throws(SCIMError) {
                _ = try await client.getUser(id: Seed.bjensen)
                return nil
            } catch {
                return error
            }
        }
    }

    func testCancellingARequestInFlight() async throws {
        try await withSandbox(configure: { $0.latency = .milliseconds(500) }) { _, client in
            let task = getInBackground(client)
            try await Task.sleep(for: .milliseconds(50))
            let start = ContinuousClock.now
            task.cancel()
            let error = await task.value
            let e = try XCTUnwrap(error)
            assertNoSecrets(e)
            XCTAssertTrue(e.isCancelled, e.description)
            XCTAssertEqual(e.description, "cancelled (GET /api/v1/scim/Users/\(Seed.bjensen))")
            XCTAssertLessThan(seconds(since: start), 0.4)
        }
    }

    func testCancellingDuringARetryWait() async throws {
        let retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .seconds(60))
        try await withSandbox(configure: { $0.retryAfterSeconds = 30 }, retry: retry) { server, client in
            server.failNext(.serviceUnavailable)
            server.clearLog()
            let task = getInBackground(client)
            // Wait until the 503 has been answered, then cancel while the client waits out Retry-After.
            while server.requestLog().isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            try await Task.sleep(for: .milliseconds(20))
            let start = ContinuousClock.now
            task.cancel()
            let result = await task.value
            let e = try XCTUnwrap(result)
            XCTAssertTrue(e.isCancelled, e.description)
            XCTAssertLessThan(seconds(since: start), 1)
            XCTAssertEqual(statuses(server), [503])
        }
    }
}
