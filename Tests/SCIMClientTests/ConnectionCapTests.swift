import SCIMSandbox
import SCIMTestSupport
import Synchronization
import XCTest

@testable import SCIMClient

/// `NIOHTTPTransport` with a cap on connections per host: requests beyond it wait in line and leave on the
/// first connection that frees (what bulk writes in the interpreter rely on).
extension NIOTransportTests {
    /// Eight requests through two connections: all answered, never more than two connections, and the time
    /// shows they went two at a time.
    func testCapQueuesRequestsAndNeverOpensMore() async throws {
        try await withTransportSandbox(latency: .milliseconds(60), maxConnectionsPerHost: 2) {
            server, transport, base in
            let start = ContinuousClock.now
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await transport.send(get(base + "/Users/\(Seed.bjensen)"), timeout: .seconds(5)).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            XCTAssertEqual(statuses, Array(repeating: 200, count: 8))
            XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(4 * 60))
            XCTAssertEqual(transport.pool.state.withLock { $0.open.count }, 2)
            XCTAssertEqual(transport.pool.state.withLock { $0.waiting.values.map(\.count).reduce(0, +) }, 0)
        }
    }

    /// A request waiting in line can be cancelled; it is never sent, and its place is not lost.
    func testWaitingRequestCanBeCancelled() async throws {
        try await withTransportSandbox(latency: .milliseconds(300), maxConnectionsPerHost: 1) {
            server, transport, base in
            server.clearLog()
            let first = Task { try await transport.send(get(base + "/Users/\(Seed.bjensen)"), timeout: .seconds(5)) }
            try await waitUntil { transport.pool.state.withLock { $0.count.values.reduce(0, +) } == 1 }
            let waiting = Task { try await transport.send(get(base + "/Users/\(Seed.alice)"), timeout: .seconds(5)) }
            try await waitUntil {
                transport.pool.state.withLock { !$0.waiting.isEmpty && $0.waiting.values.first!.count == 1 }
            }
            let start = ContinuousClock.now
            waiting.cancel()
            do {
                _ = try await waiting.value
                XCTFail("expected a cancellation")
            } catch {
                XCTAssertTrue(error is CancellationError, "\(error)")
            }
            XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(200), "it stopped waiting at once")
            let firstStatus = try await first.value.status
            XCTAssertEqual(firstStatus, 200)
            let after = try await transport.send(get(base + "/Users/\(Seed.alice)"), timeout: .seconds(5))
            XCTAssertEqual(after.status, 200, "the connection is free again")
            let paths = server.requestLog().map(\.uri)
            XCTAssertEqual(
                paths.filter { $0.hasSuffix(Seed.alice) }.count, 1, "the cancelled request never left: \(paths)")
        }
    }

    /// Raising the cap starts waiting requests at once.
    func testRaisingTheCapStartsWaitingRequests() async throws {
        try await withTransportSandbox(latency: .milliseconds(400), maxConnectionsPerHost: 1) {
            server, transport, base in
            let start = ContinuousClock.now
            let a = Task { try await transport.send(get(base + "/Users/\(Seed.bjensen)"), timeout: .seconds(5)) }
            let b = Task { try await transport.send(get(base + "/Users/\(Seed.alice)"), timeout: .seconds(5)) }
            try await waitUntil { transport.pool.state.withLock { $0.waiting.values.first?.count == 1 } }
            XCTAssertTrue(transport.limitConnections(perHost: 2))
            let statuses = [try await a.value.status, try await b.value.status]
            XCTAssertEqual(statuses, [200, 200])
            XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(750), "the second did not wait for the first")
            XCTAssertEqual(transport.pool.state.withLock { $0.open.count }, 2)
        }
    }

    /// A withdrawn request still waiting in line fails as not sent and never reaches the server; the request
    /// on the wire finishes. Through `SCIMClient` the withdrawn one is not retried.
    func testWithdrawnRequestsInLineAreNeverSent() async throws {
        try await withTransportSandbox(latency: .milliseconds(200), maxConnectionsPerHost: 1) {
            server, transport, base in
            server.clearLog()
            let client = SCIMClient(
                configuration: SCIMConfiguration(
                    host: "http://127.0.0.1:\(server.port)", basePath: server.sandbox.configuration.basePath,
                    auth: .bearer(server.sandbox.configuration.adminToken)),
                transport: transport)
            let withdrawal = Withdrawal()
            let onTheWire = Task {
                try await Withdrawal.$current.withValue(withdrawal) {
                    try await transport.send(get(base + "/Users/\(Seed.bjensen)"), timeout: .seconds(5))
                }
            }
            try await waitUntil { transport.pool.state.withLock { $0.count.values.reduce(0, +) } == 1 }
            let inLine = Task {
                try await Withdrawal.$current.withValue(withdrawal) {
                    try await transport.send(get(base + "/Users/\(Seed.alice)"), timeout: .seconds(5))
                }
            }
            let throughClient = Task {
                await Withdrawal.$current.withValue(withdrawal) {
                    do {
                        _ = try await client.getUser(id: Seed.okoval)
                        return "sent"
                    } catch {
                        return (error as? SCIMError)?.isCancelled == true ? "cancelled" : "\(error)"
                    }
                }
            }
            try await waitUntil { transport.pool.state.withLock { $0.waiting.values.first?.count == 2 } }
            withdrawal.withdraw()
            let status = try await onTheWire.value.status
            XCTAssertEqual(status, 200, "the request on the wire finished")
            try await assertFailsAsNotSent(inLine, "withdrawn before it was sent")
            let clientOutcome = await throughClient.value
            XCTAssertEqual(clientOutcome, "cancelled", "the client does not retry a withdrawn request")
            let uris = server.requestLog().map(\.uri)
            XCTAssertEqual(uris.count, 1, "only the request on the wire reached the server: \(uris)")
            let after = try await transport.send(get(base + "/Users/\(Seed.alice)"), timeout: .seconds(5))
            XCTAssertEqual(after.status, 200, "requests without the withdrawal go on")
        }
    }

    /// Shutting down fails the requests still in line, as not sent.
    func testShutdownFailsWaitingRequestsAsNotSent() async throws {
        try await withTransportSandbox(latency: .milliseconds(300), maxConnectionsPerHost: 1) {
            server, transport, base in
            let a = Task { try await transport.send(get(base + "/Users/\(Seed.bjensen)"), timeout: .seconds(5)) }
            // b must be the one in line: start it only once a holds the connection.
            try await waitUntil { transport.pool.state.withLock { $0.count.values.first == 1 } }
            let b = Task { try await transport.send(get(base + "/Users/\(Seed.alice)"), timeout: .seconds(5)) }
            try await waitUntil { transport.pool.state.withLock { $0.waiting.values.first?.count == 1 } }
            await transport.shutdown()
            try await assertFailsAsNotSent(b, "the client was shut down")
            _ = try? await a.value
        }
    }

    /// A connection the server closes after its answer hands its place to the next request in line, which
    /// opens a new one.
    func testClosedConnectionGivesItsPlaceToTheNextInLine() async throws {
        let server = try RawServer(closeAfterAnswer: true) { _ in
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
        }
        defer { server.stop() }
        let transport = NIOHTTPTransport(maxConnectionsPerHost: 1)
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let r = try await transport.send(get("http://127.0.0.1:\(server.port)/"), timeout: .seconds(5))
                    return String(decoding: r.body, as: UTF8.self)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(bodies, ["ok", "ok", "ok", "ok"])
        XCTAssertEqual(server.acceptedConnections, 4, "one connection per answer, one at a time")
        await transport.shutdown()
    }

    /// Checks that a request's task failed with this reason, as not sent.
    func assertFailsAsNotSent(
        _ task: Task<HTTPResponseData, any Error>, _ reason: String, line: UInt = #line
    ) async throws {
        let f = try await transportFailure("expected a failure: \(reason)", line: line) { try await task.value }
        XCTAssertEqual(f.reason, reason, line: line)
        XCTAssertTrue(f.notSent, line: line)
    }
}
