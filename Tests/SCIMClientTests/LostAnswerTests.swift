import Foundation
import SCIMClient
import SCIMCore
import XCTest

/// A request whose answer was lost may have reached the server; the retry must not turn a done deactivation
/// into an error. The sandbox cannot lose an answer it sent, so a stub transport plays the network.
final class LostAnswerTests: XCTestCase {
    /// First attempt: the connection drops after sending; second attempt: whatever `then` answers.
    func client(then status: Int) -> (SCIMClient, StubTransport) {
        let attempts = LockedCounter()
        let transport = StubTransport { _ in
            if attempts.next() == 1 {
                throw TransportFailure(reason: "the server closed the connection", notSent: false)
            }
            let body = status == 404 ? #"{"status":"404","detail":"There are no users with the specified id"}"# : ""
            return HTTPResponseData(status: status, headers: [], body: Array(body.utf8))
        }
        let config = SCIMConfiguration(
            host: "http://127.0.0.1:9", auth: .bearer("tok-LOST-1234"),
            retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(5)))
        return (SCIMClient(configuration: config, transport: transport), transport)
    }

    func testRetriedDeleteTreats404AsDone() async throws {
        let (client, transport) = client(then: 404)
        try await client.deleteUser(id: "u-1")
        XCTAssertEqual(transport.requests.map(\.method), ["DELETE", "DELETE"])
    }

    func testA404WithoutALostAttemptIsStillAnError() async throws {
        let transport = StubTransport(status: 404, contentType: "application/scim+json", body: #"{"detail":"gone"}"#)
        let client = SCIMClient(
            configuration: SCIMConfiguration(host: "http://127.0.0.1:9", auth: .none), transport: transport)
        do {
            try await client.deleteUser(id: "u-1")
            XCTFail("a plain 404 must fail")
        } catch {
            XCTAssertEqual(error.status, 404)
        }
    }

    func testARetryRefusedWith412AfterALostAnswerSaysTheFirstAttemptProbablyApplied() async throws {
        let (client, transport) = client(then: 412)
        let expected = ExpectedVersion(collection: "/Users", id: "u-1", version: #"W/"3""#)
        do {
            _ = try await ExpectedVersion.$current.withValue(expected) {
                try await client.patchUser(
                    id: "u-1", operations: [PatchOperation(op: .replace, path: "displayName", value: "B")])
            }
            XCTFail("the retry's 412 must not count as success")
        } catch let error as SCIMError {
            XCTAssertTrue(error.isTransportError, "\(error)")
            XCTAssertTrue(error.detail.contains("the first attempt has probably applied"), error.detail)
        }
        XCTAssertEqual(transport.requests.map(\.method), ["PATCH", "PATCH"])
        XCTAssertEqual(transport.requests.last?.headers.first { $0.name == "If-Match" }?.value, #"W/"3""#)
    }

    func testRetriedGetKeeps404AsAnError() async throws {
        let (client, _) = client(then: 404)
        do {
            _ = try await client.getUser(id: "u-1")
            XCTFail("GET of a missing user must fail even after a lost answer")
        } catch {
            XCTAssertEqual(error.status, 404)
        }
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    /// Increments and returns the new value.
    func next() -> Int {
        lock.withLock {
            value += 1; return value
        }
    }
}
