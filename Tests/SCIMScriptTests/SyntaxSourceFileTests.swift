import XCTest

@testable import SCIMScript

/// Source files turn UTF-8 offsets into lines and columns, safely for any offset.
final class SyntaxSourceFileTests: XCTestCase {
    func testLocations() {
        let file = SourceFile(name: "f", text: "ab\ncdé\n\n🙂x")
        XCTAssertTrue(file.location(of: 0) == (1, 1))
        XCTAssertTrue(file.location(of: 2) == (1, 3))
        XCTAssertTrue(file.location(of: 3) == (2, 1))
        XCTAssertTrue(file.location(of: 7) == (2, 4))  // after the two-byte é
        XCTAssertTrue(file.location(of: 8) == (3, 1))
        XCTAssertTrue(file.location(of: 9) == (4, 1))
        XCTAssertTrue(file.location(of: 13) == (4, 2))  // after the four-byte emoji
        XCTAssertTrue(file.location(of: 14) == (4, 3))
        XCTAssertTrue(file.location(of: -5) == (1, 1))
        XCTAssertTrue(file.location(of: 999) == (4, 3))
        XCTAssertEqual(file.lineCount, 4)
        XCTAssertEqual(file.byteCount, 14)
    }

    func testLines() {
        let file = SourceFile(name: "f", text: "one\r\ntwo\n\nfour")
        XCTAssertEqual((0...5).map(file.line), ["", "one", "two", "", "four", ""])
        XCTAssertEqual(SourceFile(name: "e", text: "").line(1), "")
        XCTAssertEqual(SourceFile(name: "e", text: "x\n").line(2), "")
    }

    func testTextInRange() {
        let file = SourceFile(name: "f", text: "héllo")
        XCTAssertEqual(file.text(in: SourceRange(lowerBound: 1, upperBound: 3)), "é")
        XCTAssertEqual(file.text(in: SourceRange(lowerBound: 3, upperBound: 100)), "llo")
        XCTAssertEqual(file.text(in: SourceRange(lowerBound: -3, upperBound: 1)), "h")
    }

    func testSourceRange() {
        let range = SourceRange(lowerBound: 5, upperBound: 2)
        XCTAssertEqual(range.upperBound, 5)
        XCTAssertTrue(range.isEmpty)
        XCTAssertEqual(SourceRange(2..<6).union(.at(9)), SourceRange(lowerBound: 2, upperBound: 9))
        XCTAssertEqual(SourceRange(2..<6).shifted(by: 3), SourceRange(5..<9))
        XCTAssertEqual(SourceRange(2..<6).count, 4)
        XCTAssertEqual(SourceRange(2..<6).description, "2..<6")
    }

    func testSecretRedaction() {
        XCTAssertEqual(Diagnostic.redactingSecrets("set token = abc"), "set token = ***")
        XCTAssertEqual(Diagnostic.redactingSecrets("\tset  api_token=\"a b\""), "\tset  api_token=** **")
        XCTAssertEqual(Diagnostic.redactingSecrets("set tokens = abc"), "set tokens = abc")
        XCTAssertEqual(Diagnostic.redactingSecrets("echo token = abc"), "echo token = abc")
        XCTAssertEqual(Diagnostic.redactingSecrets("set token"), "set token")
    }
}
