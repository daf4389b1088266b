import Foundation
import SCIMCore
import SCIMScript
import XCTest

/// `lookup`: each input record's user by an attribute, and `patch ATTR` taking each record's value.
final class InterpreterLookupTests: InterpreterTestCase {
    func testLookupFindsUsersAndReportsTheRest() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        try write("userName,note\nbjensen,a\nnobody,b\n,c\nRKUMAR,d\n", to: dir + "/logins.csv")
        let r = await h.run("import \(dir)/logins.csv | lookup userName | select userName")
        XCTAssertEqual(r.exitCode, 1, h.messages)
        XCTAssertEqual(h.data, "userName\n--------\nbjensen\nrkumar\n")
        XCTAssertTrue(h.messages.contains(#"no user with userName eq "nobody""#), h.messages)
        XCTAssertTrue(h.messages.contains("the record has no userName"), h.messages)
        XCTAssertTrue(h.messages.contains("found 2 users, 2 failed"), h.messages)
        XCTAssertEqual(h.writes, [], "lookup only reads")
    }

    func testLookupMapsAFieldAndDeactivatesWhatItFound() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        try write("login\nbjensen\n", to: dir + "/leavers.csv")
        let r = await h.run("import \(dir)/leavers.csv | lookup userName=login | delete | count")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.user("bjensen")?["active"], false)
    }

    func testLookupNeedsAnAttributeAndInput() async throws {
        let h = try await makeHarness()
        var r = await h.run("lookup userName")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.contains("lookup works on input records"), h.messages)
        r = await h.run("find | lookup 'not an attribute'")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.contains("'not an attribute' is not an attribute name"), h.messages)
    }

    func testPatchTakesEachRecordsOwnValue() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        try write(
            "id,displayName\n2819c223-7f76-453a-919d-413861904646,Babs\na3d5e7f9-2b4c-4d6e-9f1a-5b7c9d1e4c04,\n",
            to: dir + "/renames.csv")
        let r = await h.run("import \(dir)/renames.csv | patch displayName | count")
        XCTAssertEqual(r.exitCode, 1, "the row with an empty cell fails")
        XCTAssertEqual(h.user("bjensen")?["displayName"], "Babs")
        XCTAssertEqual(h.user("tnguyen")?["displayName"], "Thanh Nguyen", "an empty cell changes nothing")
        XCTAssertTrue(h.messages.contains("the record has no displayName"), h.messages)
        XCTAssertTrue(h.messages.contains("patched 1 user, 1 failed"), h.messages)
    }
}

/// `first` after a write limits only what is printed: the interpreter says so.
final class InterpreterWriteThenFirstTests: InterpreterTestCase {
    func testFirstAfterAWriteWarns() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find userName eq "bjensen" | patch displayName="B" | first 1"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertTrue(
            h.messages.contains(
                "warning: 'first' after 'patch' limits what is passed on, not what is changed: put it before the "
                    + "write (find | first N | patch)"), h.messages)
    }
}
