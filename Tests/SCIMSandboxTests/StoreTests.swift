import SCIMCore
import XCTest

@testable import SCIMSandbox

final class StoreTests: XCTestCase {
    func testSeedUsersAreRealisticWithTwoInactive() {
        let users = Sandbox().users()
        XCTAssertEqual(users.count, 8)
        XCTAssertEqual(users.filter { $0["active"] == false }.count, 2)
        let bjensen = users.first { $0["userName"] == "bjensen" }
        XCTAssertEqual(bjensen?["id"]?.stringValue, bjensenId)
        XCTAssertEqual(bjensen?["externalId"], "701984")
        XCTAssertEqual(bjensen?["displayName"], "Barbara Jensen")
        for user in users {
            XCTAssertEqual(user["emails"]?.arrayValue?.count, 1)
            XCTAssertEqual(user["meta"]?["resourceType"], "User")
        }
    }

    func testGeneratedUsersStartQuickly() {
        let clock = ContinuousClock()
        var sandbox: Sandbox?
        let elapsed = clock.measure {
            sandbox = Sandbox(configuration: SandboxConfiguration(generatedUsers: 100_000))
        }
        XCTAssertEqual(sandbox?.userCount, 100_008)
        XCTAssertEqual(sandbox?.user(id: "00000000-0000-4000-8000-000000100000")?["userName"], "user100000")
        XCTAssertEqual(sandbox?.user(id: "00000000-0000-4000-8000-000000000001")?["userName"], "user000001")
        // Well under a second in release builds; debug builds get some slack.
        XCTAssertLessThan(elapsed, .seconds(3))
    }

    func testGeneratedUserNamesHaveFiveDigitsForSmallCounts() {
        let sandbox = Sandbox(configuration: SandboxConfiguration(generatedUsers: 3, seedUsers: false))
        XCTAssertEqual(
            sandbox.users().compactMap { $0["userName"]?.stringValue }, ["user00001", "user00002", "user00003"])
        XCTAssertEqual(
            sandbox.users().first?["emails"], [["type": "work", "value": "user00001@example.net", "primary": true]])
    }

    func testISO8601Formatting() {
        XCTAssertEqual(ISO8601.format(milliseconds: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(ISO8601.format(milliseconds: 1_264_222_582_000), "2010-01-23T04:56:22.000Z")
        XCTAssertEqual(ISO8601.format(milliseconds: 951_782_400_123), "2000-02-29T00:00:00.123Z")
        XCTAssertEqual(ISO8601.format(milliseconds: -1), "1969-12-31T23:59:59.999Z")
    }

    func testDirectWriterMatchesTheGenericEncoder() {
        let user = SandboxUser(
            id: "i\"d", externalId: "e\\x", userName: "ü\n", displayName: "D", active: false,
            emails: [SandboxEmail(type: nil, value: "a@b", primary: nil)], created: 5, lastModified: 6)
        var out: [UInt8] = []
        user.writeJSON(into: &out, location: "http://h/Users/i")
        XCTAssertEqual(
            String(decoding: out, as: UTF8.self),
            JSONEncoderFast.encode(.object(user.resource(location: "http://h/Users/i"))))
    }

    func testPercentDecoding() {
        XCTAssertEqual(QueryString.percentDecode("a%20b+c", plusIsSpace: true), "a b c")
        XCTAssertEqual(QueryString.percentDecode("a+b", plusIsSpace: false), "a+b")
        XCTAssertEqual(QueryString.percentDecode("%C3%BC", plusIsSpace: true), "ü")
        XCTAssertNil(QueryString.percentDecode("%", plusIsSpace: true))
        XCTAssertNil(QueryString.percentDecode("%4", plusIsSpace: true))
        XCTAssertNil(QueryString.percentDecode("%FF", plusIsSpace: true), "not UTF-8")
    }

    func testUUIDsLookLikeVersion4() {
        var random = SplitMix64(seed: 1)
        let id = random.uuid()
        XCTAssertEqual(id.count, 36)
        let parts = id.split(separator: "-")
        XCTAssertEqual(parts.map(\.count), [8, 4, 4, 4, 12])
        XCTAssertEqual(parts[2].first, "4")
        XCTAssertTrue("89ab".contains(parts[3].first ?? "x"))
    }
}
