import NIOCore
import NIOEmbedded
import NIOTLS
import XCTest

@testable import SCIMClient

/// The connection handler of `NIOHTTPTransport`, driven by hand where real servers cannot fix the order of
/// events.
final class ExchangeHandlerTests: XCTestCase {
    /// Whether a close counts as "not sent" over TLS depends on the handshake, not on the order in which NIOSSL
    /// reports a failed handshake and the close (which varies under load): driven by hand on the handler.
    func testOverTLSARequestCountsAsSentOnlyAfterTheHandshake() throws {
        for handshake in [false, true] {
            let channel = EmbeddedChannel()
            let endpoint = Endpoint(tls: true, host: "odm.example.org", port: 443)
            let pool = ConnectionPool(maxIdlePerHost: 1, limit: nil)
            try channel.pipeline.syncOperations.addHandler(
                ExchangeHandler(maxBodyBytes: 1 << 20, pool: pool, endpoint: endpoint))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
            let slot = ResponseSlot()
            let exchange = Exchange(
                request: get("https://odm.example.org/Users"), target: try Target(url: "https://odm.example.org/Users"),
                maxBodyBytes: 1 << 20, deadline: .now() + .seconds(5))
            channel.write(ExchangeHandler.Outbound(exchange: exchange, slot: slot), promise: nil)
            if handshake {
                channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
            }
            _ = try? channel.close().wait()
            XCTAssertThrowsError(try slot.delivered?.get()) { error in
                let f = error as? TransportFailure
                if handshake {
                    XCTAssertEqual(f?.reason, "the server closed the connection")
                    XCTAssertEqual(f?.notSent, false, "after the handshake the request may have arrived")
                } else {
                    XCTAssertEqual(f?.reason, "TLS handshake failed (the server closed the connection)")
                    XCTAssertEqual(f?.notSent, true, "the TLS handler still held the request")
                }
            }
        }
    }
}
