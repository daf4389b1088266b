import HTTPTypes
import HummingbirdTesting
import SCIMCore
import SCIMSandbox
import XCTest

/// `tokenLifetime`: tokens honoured for N requests, then 401 "token expired"; derived admin tokens.
final class TokenLifetimeTests: XCTestCase {
    func testTokenIsHonouredForNRequestsThenExpires() async throws {
        try await withSandbox(SandboxConfiguration(tokenLifetime: 3)) { _, client in
            for i in 1...3 {
                assertStatus(try await client.send(.get, "/Users?count=1"), 200, "request \(i)")
            }
            assertExpired(try await client.send(.get, "/Users?count=1"))
            assertExpired(try await client.send(.get, "/Users/\(bjensenId)", auth: .genestack(admin)))
        }
    }

    func testDerivedTokensHaveAdminRightsAndTheirOwnCounters() async throws {
        try await withSandbox(SandboxConfiguration(tokenLifetime: 2)) { sandbox, client in
            for _ in 1...2 { assertStatus(try await client.send(.get, "/Users"), 200) }
            assertExpired(try await client.send(.get, "/Users"))

            let first = admin + ".1"
            let second = admin + ".refresh-2_B"
            assertStatus(try await client.send(.post, "/Users", auth: .bearer(first), json: userBody("fresh")), 201)
            assertStatus(try await client.send(.get, "/Users", auth: .genestack(first)), 200)
            assertExpired(try await client.send(.get, "/Users", auth: .bearer(first)))
            assertStatus(try await client.send(.get, "/Users", auth: .bearer(second)), 200)
            XCTAssertEqual(sandbox.users().filter { $0["userName"] == "fresh" }.count, 1, "the derived token wrote")
            assertStatus(try await client.send(.get, "/Users", auth: .bearer(second)), 200)
            assertExpired(try await client.send(.get, "/Users", auth: .bearer(second)))
        }
    }

    func testMalformedDerivedTokensAreUnknownNotExpired() async throws {
        try await withSandbox(SandboxConfiguration(tokenLifetime: 5)) { _, client in
            let bad = [
                admin + ".", admin + "." + String(repeating: "a", count: 65), admin + ".a/b", admin + ".a.b",
                admin + "x.1", limited + ".1", "x" + admin + ".1",
            ]
            for token in bad {
                let r = try await client.send(.get, "/Users", auth: .bearer(token))
                XCTAssertEqual(r.status, 401, token)
                XCTAssertTrue(r.errorMessage?.hasPrefix("Authentication required") ?? false, "\(token): \(r.text)")
            }
            let longest = admin + "." + String(repeating: "Z", count: 64)
            assertStatus(try await client.send(.get, "/Users", auth: .bearer(longest)), 200)
        }
    }

    func testWithoutALifetimeTokensLastAndDerivedTokensAreUnknown() async throws {
        try await withSandbox { _, client in
            for _ in 1...20 { assertStatus(try await client.send(.get, "/Users?count=1"), 200) }
            let derived = try await client.send(.get, "/Users", auth: .bearer(admin + ".1"))
            XCTAssertEqual(derived.status, 401, derived.text)
            XCTAssertFalse(derived.errorMessage?.contains("expired") ?? true, derived.text)
        }
    }

    func testLimitedTokenExpiresTooAndUnroutedRequestsDoNotCount() async throws {
        try await withSandbox(SandboxConfiguration(tokenLifetime: 1)) { _, client in
            // 404 and 405 are answered before authentication: they use up nothing.
            for _ in 1...3 {
                let r = try await client.send(.get, "/Teams", auth: .bearer(limited))
                XCTAssertEqual(r.status, 404, r.text)
                assertStatus(try await client.send(.put, "/Users", auth: .bearer(admin)), 405)
            }
            assertSCIMError(try await client.send(.get, "/Users", auth: .bearer(limited)), 403, nil)
            assertExpired(try await client.send(.get, "/Users", auth: .bearer(limited)))
            assertStatus(try await client.send(.get, "/Users"), 200)
            assertExpired(try await client.send(.get, "/Users"))
        }
    }
}

/// Asserts the 401 of an expired token: ODM's body shape, the message and the RFC 6750 header.
private func assertExpired(_ r: Reply, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(r.status, 401, r.text, file: file, line: line)
    XCTAssertEqual(r.contentType, "application/json", file: file, line: line)
    XCTAssertTrue(r.errorMessage?.contains("token expired") ?? false, r.text, file: file, line: line)
    XCTAssertNil(r.json?["schemas"], "ODM's 401 body, not a SCIM error", file: file, line: line)
    XCTAssertEqual(
        r.headers[.wwwAuthenticate], #"Bearer error="invalid_token", error_description="token expired""#,
        file: file, line: line)
}
