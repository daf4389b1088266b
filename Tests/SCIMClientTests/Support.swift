import Foundation
import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// Distinctive credentials: every error a test produces is checked not to contain any of them.
enum Tokens {
    static let admin = "adm-7Q2xK9-zebra-secret"
    static let limited = "lim-4R8vW1-otter-secret"
    static let wrong = "bad-5T6yU7-walrus-secret"
    static let all = [admin, limited, wrong]
}

/// Short backoff so that retry tests stay fast.
let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50))

/// Thrown by ``expectError(_:file:line:_:)`` when the operation unexpectedly succeeded.
struct ExpectedAnError: Error, CustomStringConvertible {
    var description: String
}

extension XCTestCase {
    /// Runs `body` with a sandbox (distinctive tokens, `Retry-After: 0` on injected faults) and a client for it,
    /// and always shuts both down.
    func withSandbox(
        generatedUsers: Int = 0,
        configure: (inout SandboxConfiguration) -> Void = { _ in },
        auth: SCIMAuth? = nil,
        retry: RetryPolicy = fastRetry,
        timeout: Duration = .seconds(10),
        _ body: (SandboxServer, SCIMClient) async throws -> Void
    ) async throws {
        let server = try await Fixtures.sandbox(generatedUsers: generatedUsers) { config in
            config.adminToken = Tokens.admin
            config.limitedToken = Tokens.limited
            config.retryAfterSeconds = 0
            configure(&config)
        }
        let client = Fixtures.client(for: server, auth: auth, retry: retry, timeout: timeout)
        do {
            try await body(server, client)
        } catch {
            await client.shutdown()
            await server.stop()
            throw error
        }
        await client.shutdown()
        await server.stop()
    }

    /// Runs an operation that must fail and returns its error, after checking that no token leaks into it.
    func expectError<T>(
        file: StaticString = #filePath, line: UInt = #line,
        _ operation: () async throws -> T
    ) async throws -> SCIMError {
        let value: T
        do {
            value = try await operation()
        } catch let error as SCIMError {
            assertNoSecrets(error, file: file, line: line)
            return error
        } catch {
            XCTFail("expected a SCIMError, got \(type(of: error)): \(error)", file: file, line: line)
            throw error
        }
        XCTFail("expected a SCIMError, got \(value)", file: file, line: line)
        throw ExpectedAnError(description: "expected a SCIMError, got \(value)")
    }

    /// No token appears in any rendering of the error.
    func assertNoSecrets(_ error: SCIMError, file: StaticString = #filePath, line: UInt = #line) {
        let texts = [
            String(describing: error), String(reflecting: error), "\(error)", error.detail, error.url,
            error.localizedDescription,
        ]
        for secret in Tokens.all {
            for text in texts {
                XCTAssertFalse(text.contains(secret), "token leaked into \(text)", file: file, line: line)
            }
        }
    }

    /// A new user body for the sandbox.
    func newUser(_ userName: String, displayName: String? = nil, externalId: String? = nil) -> SCIMUser {
        SCIMUser(
            userName: userName, displayName: displayName ?? "User \(userName)", email: "\(userName)@example.net",
            externalId: externalId)
    }

    /// The statuses of the sandbox's logged requests with a method, in order.
    func statuses(_ server: SandboxServer, method: String? = nil) -> [Int] {
        server.requestLog().filter { method == nil || $0.method == method }.map(\.status)
    }
}

/// Ids of the sandbox's seed users.
enum Seed {
    static let bjensen = "2819c223-7f76-453a-919d-413861904646"
    static let alice = "5d8a1c52-3b0e-4c1a-9f6e-2a7b9d4e1f01"
    static let mgarcia = "9b4c6d28-1e5f-4a7b-8c2d-4e6f8a0c3b03"
    /// Deactivated in the seed set.
    static let okoval = "c5e7f9a1-3c5d-4e7f-a0b2-6c8d0e2f5d05"
}

/// A transport that answers from a closure: only for what the sandbox cannot produce (attributes ODM drops,
/// bodies a proxy sends).
final class StubTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [HTTPRequestData] = []
    private let respond: @Sendable (HTTPRequestData) throws -> HTTPResponseData

    init(_ respond: @escaping @Sendable (HTTPRequestData) throws -> HTTPResponseData) {
        self.respond = respond
    }

    /// A transport that always answers with one status, content type and body.
    convenience init(status: Int, contentType: String?, body: String, headers: [(name: String, value: String)] = []) {
        self.init { _ in
            var h = headers
            if let contentType { h.append(("Content-Type", contentType)) }
            return HTTPResponseData(status: status, headers: h, body: Array(body.utf8))
        }
    }

    var requests: [HTTPRequestData] { lock.withLock { sent } }

    func send(_ request: HTTPRequestData, timeout: Duration) async throws -> HTTPResponseData {
        lock.withLock { sent.append(request) }
        return try respond(request)
    }

    func shutdown() async {}

    /// A client over this transport with the admin token and no retries.
    func client(auth: SCIMAuth = .bearer(Tokens.admin), retry: RetryPolicy = .none) -> SCIMClient {
        SCIMClient(
            configuration: SCIMConfiguration(host: "https://scim.example.test", auth: auth, retry: retry),
            transport: self)
    }
}

/// Records what the client reports about each exchange.
final class RecordingObserver: HTTPExchangeObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var _attempts: [Int] = []
    private var _statuses: [Int] = []
    private var _failures: [String] = []
    private var _sent: [HTTPRequestData] = []

    var attempts: [Int] { lock.withLock { _attempts } }
    /// Every request as it was about to be sent.
    var sent: [HTTPRequestData] { lock.withLock { _sent } }
    var statuses: [Int] { lock.withLock { _statuses } }
    var failures: [String] { lock.withLock { _failures } }

    func willSend(_ request: HTTPRequestData, attempt: Int) {
        lock.withLock {
            _attempts.append(attempt)
            _sent.append(request)
        }
    }
    func didReceive(_ response: HTTPResponseData, for request: HTTPRequestData, duration: Duration) {
        lock.withLock { _statuses.append(response.status) }
    }
    func didFail(_ reason: String, for request: HTTPRequestData, duration: Duration) {
        lock.withLock { _failures.append(reason) }
    }
}

/// Seconds elapsed since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}
