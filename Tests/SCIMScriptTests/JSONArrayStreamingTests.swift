import Foundation
import SCIMCore
import SCIMScript
import SCIMTestSupport
import XCTest

/// A top-level JSON array is read an element at a time; what does not parse still fails when the file is opened,
/// with the same message as a whole parse gives.
final class JSONArrayStreamingTests: XCTestCase {
    func write(_ text: String) throws -> String {
        let path = try Fixtures.temporaryDirectory() + "/f.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func openError(_ text: String) throws -> String {
        let path = try write(text)
        do {
            _ = try RecordFileReader(path: path)
            return "opened"
        } catch {
            return "\(error)".replacingOccurrences(of: path, with: "F")
        }
    }

    func testBrokenArraysFailOnOpenNotHalfWay() throws {
        XCTAssertEqual(try openError("[{\"a\":1},]"), "F:1: invalid JSON: unexpected character ']' (column 10)")
        XCTAssertTrue(try openError("[{\"a\":1} {\"b\":2}]").hasPrefix("F:1: invalid JSON"))
        XCTAssertTrue(try openError("[{\"a\":1},,{\"b\":2}]").hasPrefix("F:1: invalid JSON"))
        XCTAssertTrue(try openError("[{\"a\":1}] x").hasPrefix("F:1: invalid JSON"))
        XCTAssertTrue(try openError("[{\"a\":1}]]").hasPrefix("F:1: invalid JSON"))
        XCTAssertTrue(try openError("[\n{\"a\":1},\n{\"b\":[1,2}\n]").hasPrefix("F:3: invalid JSON"))
    }

    func testElementsComeOneAtATimeWithTheirLines() throws {
        let reader = try RecordFileReader(path: try write("[\n {\"a\":\"x]\\\"[\"},\n\n {\"b\":[1,{}]} ,[]\n]\n"))
        XCTAssertEqual(try reader.next()?["a"], "x]\"[")
        XCTAssertEqual(try reader.next()?["b"]?.arrayValue?.count, 2)
        XCTAssertThrowsError(try reader.next()) {
            XCTAssertTrue("\($0)".hasSuffix(":4: expected a JSON object, found an array"), "\($0)")
        }
        XCTAssertNil(try reader.next())
    }
}
