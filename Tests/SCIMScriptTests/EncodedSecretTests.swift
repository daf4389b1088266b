import Foundation
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// A token with base64's `+/=` used as a filter value or an id never shows, encoded or not, in traces, curl
/// commands or errors (issue 18, item 9).
final class EncodedSecretTests: XCTestCase {
    func testATokenUsedInAURLIsMaskedInEveryEncoding() async throws {
        let token = "Zm9v+YmFy/YmF6=="
        let server = try await Fixtures.sandbox { $0.adminToken = token }
        let sink = CapturingSink()
        let shell = Interpreter(sink: sink, environment: ["SCIMSH_JOURNAL": "off"])
        shell.setVariable("host", .string(server.origin))
        shell.setVariable("token", .string(token))
        for mode in ["on", "curl"] {
            _ = await shell.run(
                """
                set trace = \(mode)
                find userName eq "\(token)" | count
                get "\(token)"
                """)
        }
        await shell.shutdown()
        await server.stop()
        let all = sink.data + sink.messages
        XCTAssertTrue(all.contains("404"), "the get failed as expected: \(all)")
        XCTAssertTrue(all.contains("****"), all)
        for form in [token, "Zm9v%2BYmFy%2FYmF6%3D%3D", "Zm9v%2bYmFy%2fYmF6%3d%3d", "YmFy"] {
            XCTAssertFalse(all.contains(form), "\(form) shows in:\n\(all)")
        }
    }
}
