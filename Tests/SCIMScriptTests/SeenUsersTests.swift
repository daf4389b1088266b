import SCIMCore
import SCIMScript
import XCTest

/// The ids and userNames offered by completion: the most recent ones, oldest first, each once.
final class SeenUsersTests: XCTestCase {
    func record(_ n: Int) -> JSONObject {
        JSONObject([("id", .string("id-\(n)")), ("userName", .string("user\(n)"))])
    }

    func testKeepsTheMostRecentOldestFirstWithoutRepeats() {
        let seen = SeenUsers(capacity: 3)
        for n in [1, 2, 2, 3] { seen.note(record(n)) }
        XCTAssertEqual(seen.ids, ["id-1", "id-2", "id-3"])
        seen.note(record(4))
        seen.note(record(5))
        XCTAssertEqual(seen.ids, ["id-3", "id-4", "id-5"])
        XCTAssertEqual(seen.userNames, ["user3", "user4", "user5"])
        // A value evicted from the ring may come back.
        seen.note(record(1))
        XCTAssertEqual(seen.ids, ["id-4", "id-5", "id-1"])
        // One still in the ring is not added again.
        seen.note(record(5))
        XCTAssertEqual(seen.ids, ["id-4", "id-5", "id-1"])
    }

    func testRecordsWithoutIdOrNameAndATinyCapacity() {
        let seen = SeenUsers(capacity: 0)
        seen.note(JSONObject([("displayName", .string("no id"))]))
        XCTAssertEqual(seen.ids, [])
        seen.note(record(7))
        seen.note(record(8))
        XCTAssertEqual(seen.ids, ["id-8"])
        XCTAssertEqual(seen.userNames, ["user8"])
    }
}
