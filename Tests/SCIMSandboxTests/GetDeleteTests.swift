import HTTPTypes
import HummingbirdTesting
import NIOCore
import SCIMCore
import SCIMSandbox
import XCTest

final class GetDeleteTests: XCTestCase {
    func testGetReturnsTheRFCExampleUser() async throws {
        try await withSandbox { _, client in
            let r = try await client.send(.get, "/Users/\(bjensenId)")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.contentType, "application/scim+json")
            XCTAssertEqual(r.json?["displayName"], "Barbara Jensen")
            XCTAssertEqual(r.json?["externalId"], "701984")
            XCTAssertEqual(r.json?["emails"]?.arrayValue?.first?["value"], "bjensen@example.com")
            XCTAssertEqual(r.json?["meta"]?["created"], "2010-01-23T04:56:22.000Z")
            XCTAssertEqual(r.json?["meta"]?["lastModified"], "2011-05-13T04:42:34.000Z")
            // Member order is ODM's, and stable.
            XCTAssertEqual(
                r.json?.objectValue?.keys,
                ["schemas", "id", "externalId", "userName", "displayName", "active", "emails", "meta"])
        }
    }

    func testGetUnknownOrDeactivatedIs404() async throws {
        try await withSandbox { _, client in
            for id in ["no-such-id", okovalId] {
                let r = try await client.send(.get, "/Users/\(id)")
                assertSCIMError(r, 404, nil)
                XCTAssertEqual(r.detail, "There are no users with the specified id")
            }
        }
    }

    func testPercentEncodedIdsAreDecoded() async throws {
        try await withSandbox { _, client in
            let encoded = bjensenId.replacingOccurrences(of: "-", with: "%2D")
            assertStatus(try await client.send(.get, "/Users/\(encoded)"), 200)
            assertStatus(try await client.send(.get, "/Users/%zz"), 404)
        }
    }

    func testDeleteDeactivatesAndIsThen404() async throws {
        try await withSandbox { sandbox, client in
            let r = try await client.send(.delete, "/Users/\(bjensenId)")
            XCTAssertEqual(r.status, 204)
            XCTAssertEqual(r.text, "")
            XCTAssertEqual(sandbox.user(id: bjensenId)?["active"], false, "deactivated, not removed")
            XCTAssertNotEqual(sandbox.user(id: bjensenId)?["meta"]?["lastModified"], "2011-05-13T04:42:34.000Z")
            assertSCIMError(try await client.send(.get, "/Users/\(bjensenId)"), 404, nil)
            assertSCIMError(try await client.send(.delete, "/Users/\(bjensenId)"), 404, nil)
            let list = try await client.send(.get, "/Users?filter=userName%20eq%20%22bjensen%22")
            XCTAssertEqual(list.json?["totalResults"], 0)
        }
    }

    func testDeleteUnknownIs404() async throws {
        try await withSandbox { _, client in
            assertSCIMError(try await client.send(.delete, "/Users/unknown"), 404, nil)
        }
    }
}
