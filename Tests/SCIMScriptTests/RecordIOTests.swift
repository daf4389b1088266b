import Foundation
import SCIMCore
import SCIMScript
import XCTest

/// Tests of reading and writing record files: formats, round trips, and the exact text of every error.
final class RecordIOTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        let base = FileManager.default.temporaryDirectory.path
        directory = "\(base)/scimsh-recordio-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    }

    override func tearDownWithError() throws {
        let fm = FileManager.default
        // Undo permission changes so the directory can be removed.
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] {
            try? fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: "\(directory)/\(name)")
        }
        try? fm.removeItem(atPath: directory)
    }

    // MARK: - Helpers

    /// Writes a file in the temporary directory and returns its path.
    @discardableResult
    private func file(_ name: String, _ text: String) throws -> String {
        try file(name, Array(text.utf8))
    }

    @discardableResult
    private func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = "\(directory)/\(name)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func contents(_ path: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
    }

    private func record(_ value: JSONValue) -> Record {
        value.objectValue ?? Record()
    }

    /// Every record of a file.
    private func readAll(_ path: String, format: RecordFileFormat? = nil) throws -> [Record] {
        let reader = try RecordFileReader(path: path, format: format)
        defer { reader.close() }
        var records: [Record] = []
        while let r = try reader.next() { records.append(r) }
        return records
    }

    /// The first error reading a file (opening or any record), as text; `nil` when it reads cleanly.
    private func readError(_ path: String, format: RecordFileFormat? = nil) -> String? {
        do {
            _ = try readAll(path, format: format)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Writes records with a file writer.
    private func save(_ records: [Record], to path: String, columns: [String]? = nil) throws {
        let writer = try RecordFileWriter(path: path, columns: columns)
        for r in records { try writer.write(r) }
        try writer.close()
    }

    private func directoryListing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    // MARK: - Formats and errors

    func testFormatFromPath() {
        XCTAssertEqual(RecordFileFormat(path: "users.csv"), .csv)
        XCTAssertEqual(RecordFileFormat(path: "/tmp/Users.CSV"), .csv)
        XCTAssertEqual(RecordFileFormat(path: "a.b.json"), .json)
        XCTAssertEqual(RecordFileFormat(path: "x.JSONL"), .jsonl)
        XCTAssertEqual(RecordFileFormat(path: "x.ndjson"), .jsonl)
        XCTAssertNil(RecordFileFormat(path: "users.txt"))
        XCTAssertNil(RecordFileFormat(path: "users"))
        XCTAssertNil(RecordFileFormat(path: ".csv"))
        XCTAssertNil(RecordFileFormat(path: "dir.csv/users"))
        XCTAssertNil(RecordFileFormat(path: ""))
    }

    func testErrorDescription() {
        XCTAssertEqual(
            RecordFileError(path: "users.csv", line: 3, message: "expected 3 fields, found 4").description,
            "users.csv:3: expected 3 fields, found 4"
        )
        XCTAssertEqual(RecordFileError(path: "u.json", message: "cannot read: x").description, "u.json: cannot read: x")
    }

    // MARK: - CSV reading

    func testCSVReading() throws {
        let path = try file(
            "users.csv",
            [0xEF, 0xBB, 0xBF]
                + Array(
                    ("userName , name.familyName,name.givenName,title,emails.value\r\n"
                        + "bjensen,Jensen,Barbara,\"Chief \"\"Fun\"\" Officer, EMEA\",bj@example.com\r\n"
                        + "\r\n"
                        + "jsmith,,,\"line one\r\nline two\",\r\n"
                        + ",,,,\n"
                        + "\"\",\"\",x\"y,\"\",\"\"\n"
                        + "last,\"\",,, ").utf8
                )
        )
        let records = try readAll(path)
        XCTAssertEqual(records.count, 4)
        XCTAssertEqual(
            records.map { JSONEncoderFast.encode(.object($0)) },
            [
                #"{"userName":"bjensen","name":{"familyName":"Jensen","givenName":"Barbara"},"#
                    + #""title":"Chief \"Fun\" Officer, EMEA","emails":{"value":"bj@example.com"}}"#,
                #"{"userName":"jsmith","title":"line one\r\nline two"}"#,
                #"{"name":{"givenName":"x\"y"}}"#,
                #"{"userName":"last","emails":{"value":" "}}"#,
            ]
        )
    }

    func testCSVHeaderOnlyAndBareCRLineEndings() throws {
        XCTAssertEqual(try readAll(try file("h.csv", "userName,email\n")), [])
        XCTAssertEqual(
            try readAll(try file("cr.csv", "a,b\r1,2\r3,4")),
            [record(["a": "1", "b": "2"]), record(["a": "3", "b": "4"])]
        )
    }

    func testCSVRaggedRowsReportTheirLineAndReadingGoesOn() throws {
        let path = try file("users.csv", "a,b,c\n1,2,3\n\"multi\nline\",2,3\n1,2,3,4\n1,2\nx,y,z\n")
        let reader = try RecordFileReader(path: path)
        XCTAssertEqual(try reader.next(), record(["a": "1", "b": "2", "c": "3"]))
        XCTAssertEqual(try reader.next(), record(["a": "multi\nline", "b": "2", "c": "3"]))
        XCTAssertThrowsError(try reader.next()) { XCTAssertEqual("\($0)", "\(path):5: expected 3 fields, found 4") }
        XCTAssertThrowsError(try reader.next()) { XCTAssertEqual("\($0)", "\(path):6: expected 3 fields, found 2") }
        XCTAssertEqual(try reader.next(), record(["a": "x", "b": "y", "c": "z"]))
        XCTAssertNil(try reader.next())
        reader.close()
        XCTAssertNil(try reader.next())

        let single = try file("one.csv", "userName\na,b\n")
        XCTAssertEqual(readError(single), "\(single):2: expected 1 field, found 2")
    }

    func testCSVErrors() throws {
        let unterminated = try file("u.csv", "a,b\n1,2\n3,\"open\n4,5\n6,7\n")
        XCTAssertEqual(readError(unterminated), "\(unterminated):5: unterminated quoted field started on line 3")
        let unterminatedNoNewline = try file("u2.csv", "a\n\"x")
        XCTAssertEqual(
            readError(unterminatedNoNewline), "\(unterminatedNoNewline):2: unterminated quoted field started on line 2")

        let latin1 = try file("latin1.csv", Array("userName,displayName\nbjensen,Jos".utf8) + [0xE9] + [0x0A])
        XCTAssertEqual(
            readError(latin1),
            "\(latin1):2: invalid UTF-8 in column 'displayName'; save the file as UTF-8"
        )
        let badHeader = try file("badheader.csv", [0x6E, 0xE9, 0x0A, 0x31, 0x0A])
        XCTAssertEqual(readError(badHeader), "\(badHeader):1: invalid UTF-8 in the header; save the file as UTF-8")

        let empty = try file("empty.csv", "")
        XCTAssertEqual(readError(empty), "\(empty): the file is empty; expected a header row")
        let blank = try file("blank.csv", [0xEF, 0xBB, 0xBF, 0x0A, 0x0D, 0x0A])
        XCTAssertEqual(readError(blank), "\(blank): the file is empty; expected a header row")

        let emptyName = try file("emptyname.csv", "\n\nuserName,,email\n")
        XCTAssertEqual(readError(emptyName), "\(emptyName):3: empty column name in the header (column 2)")
        let badName = try file("badname.csv", "userName,name..familyName\n")
        XCTAssertEqual(
            readError(badName),
            "\(badName):1: invalid column name 'name..familyName' in the header (column 2)"
        )
        let deep = try file("deep.csv", String(repeating: "a.", count: 5000) + "b\n")
        XCTAssertEqual(
            readError(deep),
            "\(deep):1: invalid column name '\(String(repeating: "a.", count: 29))a…' in the header (column 1)"
        )
        let duplicate = try file("dup.csv", "email,userName,Email\n")
        XCTAssertEqual(readError(duplicate), "\(duplicate):1: duplicate column 'Email' in the header (columns 1 and 3)")
        let conflict = try file("conflict.csv", "name,userName,name.familyName\n")
        XCTAssertEqual(
            readError(conflict),
            "\(conflict):1: column 'name' conflicts with 'name.familyName' in the header (columns 1 and 3)"
        )

        let afterQuote = try file("q.csv", "a,b\n\"x\"y,2\n3,4\n")
        let reader = try RecordFileReader(path: afterQuote)
        XCTAssertThrowsError(try reader.next()) {
            XCTAssertEqual("\($0)", "\(afterQuote):2: unexpected text after the closing quote of a quoted field")
        }
        XCTAssertEqual(try reader.next(), record(["a": "3", "b": "4"]))
    }

    func testWrongFormatAndEncoding() throws {
        let json = try file("users.csv", "[{\"userName\": \"bjensen\"}]\n")
        XCTAssertEqual(readError(json), "\(json):1: the file holds JSON, not CSV; name it .json or .jsonl")

        let utf16 = try file("utf16.csv", [0xFF, 0xFE, 0x61, 0x00, 0x0A, 0x00])
        XCTAssertEqual(readError(utf16), "\(utf16): the file is UTF-16 text; save it as UTF-8")
        let xlsx = try file("users.csv", [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00])
        XCTAssertEqual(
            readError(xlsx),
            "\(xlsx): the file is a ZIP archive (an Excel workbook?), not CSV; export it as CSV UTF-8"
        )

        let csvAsJSON = try file("users.json", "userName,email\nbjensen,bj@example.com\n")
        XCTAssertEqual(
            readError(csvAsJSON),
            "\(csvAsJSON):1: the file does not hold JSON: it starts with 'userName,email' (is it a CSV file?)"
        )
        let csvAsJSONL = try file("users.jsonl", "\n  userName,email\nbjensen,bj@example.com\n")
        XCTAssertEqual(
            readError(csvAsJSONL),
            "\(csvAsJSONL):2: the file does not hold JSON Lines: it starts with 'userName,email' (is it a CSV file?)"
        )
        let jsonlAsJSON = try file("lines.json", "{\"a\":1}\n{\"a\":2}\n")
        XCTAssertEqual(
            readError(jsonlAsJSON),
            "\(jsonlAsJSON):2: invalid JSON: unexpected text after the JSON value (column 1); "
                + "one object per line is JSON Lines: name the file .jsonl"
        )
        let arrayAsJSONL = try file("array.jsonl", "[\n  {\"a\": 1}\n]\n")
        XCTAssertEqual(
            readError(arrayAsJSONL),
            "\(arrayAsJSONL):1: invalid JSON: unexpected end of input (column 2); "
                + "a JSON array belongs in a .json file"
        )
        let compactArrayAsJSONL = try file("array2.jsonl", "[{\"a\": 1}]\n")
        XCTAssertEqual(
            readError(compactArrayAsJSONL),
            "\(compactArrayAsJSONL):1: expected a JSON object, found an array; a JSON array belongs in a .json file"
        )
        // An explicit format overrides the extension.
        let csvText = try file("export.txt", "userName\nbjensen\n")
        XCTAssertEqual(try readAll(csvText, format: .csv), [record(["userName": "bjensen"])])
    }

    func testUnreadableFiles() throws {
        let missing = "\(directory)/missing.csv"
        XCTAssertEqual(readError(missing), "\(missing): cannot read: No such file or directory")
        let dir = "\(directory)/folder.json"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        XCTAssertEqual(readError(dir), "\(dir): cannot read: Is a directory")
        let unknown = try file("users.txt", "a\n")
        XCTAssertEqual(
            readError(unknown), "\(unknown): cannot tell the file format from the name; use .csv, .json or .jsonl")

        let locked = try file("locked.csv", "a\n1\n")
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: locked)
        guard geteuid() != 0 else { throw XCTSkip("permissions do not apply to root") }
        XCTAssertEqual(readError(locked), "\(locked): cannot read: Permission denied")
    }

    // MARK: - JSON and JSON Lines reading

    func testJSONArrayAndItemLines() throws {
        let path = try file(
            "users.json",
            """
            [
              {"userName": "a", "tags": ["x,]", {"y": "[,"}]},
              {"userName": "b"},
              42,
              {"userName": "c"}, "s",
              null
            ]
            """
        )
        let reader = try RecordFileReader(path: path)
        XCTAssertEqual(try reader.next()?["userName"], "a")
        XCTAssertEqual(try reader.next()?["userName"], "b")
        XCTAssertThrowsError(try reader.next()) {
            XCTAssertEqual("\($0)", "\(path):4: expected a JSON object, found a number")
        }
        XCTAssertEqual(try reader.next()?["userName"], "c")
        XCTAssertThrowsError(try reader.next()) {
            XCTAssertEqual("\($0)", "\(path):5: expected a JSON object, found a string")
        }
        XCTAssertThrowsError(try reader.next()) {
            XCTAssertEqual("\($0)", "\(path):6: expected a JSON object, found null")
        }
        XCTAssertNil(try reader.next())
    }

    func testJSONSingleObjectListResponseAndEmptyArray() throws {
        XCTAssertEqual(try readAll(try file("one.json", "  {\"userName\": \"a\"}\n")), [record(["userName": "a"])])
        XCTAssertEqual(try readAll(try file("none.json", "[]")), [])
        let list = try file(
            "list.json",
            #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":2,"#
                + #""Resources":[{"id":"1"},{"id":"2"},true]}"#
        )
        let reader = try RecordFileReader(path: list)
        XCTAssertEqual(try reader.next(), record(["id": "1"]))
        XCTAssertEqual(try reader.next(), record(["id": "2"]))
        XCTAssertThrowsError(try reader.next()) {
            XCTAssertEqual("\($0)", "\(list): Resources[2]: expected a JSON object, found a Boolean")
        }
        // An object that merely has a `Resources` member is one record.
        XCTAssertEqual(try readAll(try file("r.json", #"{"Resources":[1]}"#)).count, 1)
    }

    func testJSONErrors() throws {
        let broken = try file("broken.json", "[\n  {\"userName\": \"a\"},\n  {\"userName\" \"b\"}\n]\n")
        XCTAssertEqual(readError(broken), "\(broken):3: invalid JSON: expected ':' after member name (column 15)")
        let truncated = try file("truncated.json", "[{\"a\": 1},\n")
        XCTAssertEqual(readError(truncated), "\(truncated):2: invalid JSON: unexpected end of input (column 1)")
        let empty = try file("empty.json", " \n")
        XCTAssertEqual(readError(empty), "\(empty): the file is empty; expected a JSON array of objects")
        let scalar = try file("scalar.json", "\n\"hello\"")
        XCTAssertEqual(readError(scalar), "\(scalar):2: expected a JSON array of objects, found a string")
        let latin1 = try file("latin1.json", Array("[\n{\"a\": \"Jos".utf8) + [0xE9, 0x22, 0x7D, 0x5D])
        XCTAssertEqual(readError(latin1), "\(latin1):2: invalid UTF-8; save the file as UTF-8")
        // Brackets that do not pair: the element-at-a-time scan gives up and the parser names the error (the scan
        // trapped on `["a"}` once).
        for (name, text) in [("curly.json", "[\"a\"}"), ("objects.json", "[{\"a\":1}}"), ("comma.json", "[1,}")] {
            let path = try file(name, text)
            let message = readError(path) ?? "no error"
            XCTAssertTrue(message.hasPrefix("\(path):1: invalid JSON"), message)
        }
    }

    func testJSONLines() throws {
        let path = try file(
            "users.jsonl", [0xEF, 0xBB, 0xBF] + Array("{\"id\":\"1\"}\r\n\n   \n{\"id\":\"2\",\"n\":[1]}".utf8))
        XCTAssertEqual(try readAll(path), [record(["id": "1"]), record(["id": "2", "n": [1]])])

        let bad = try file("bad.ndjson", "{\"id\":\"1\"}\n\n{\"id\":\"2\",}\n7\n{\"id\":\"3\"}\n")
        let reader = try RecordFileReader(path: bad)
        XCTAssertEqual(try reader.next(), record(["id": "1"]))
        XCTAssertThrowsError(try reader.next()) {
            XCTAssertEqual("\($0)", "\(bad):3: invalid JSON: expected a member name (column 11)")
        }
        XCTAssertThrowsError(try reader.next()) {
            XCTAssertEqual("\($0)", "\(bad):4: expected a JSON object, found a number")
        }
        XCTAssertEqual(try reader.next(), record(["id": "3"]))
        XCTAssertNil(try reader.next())

        let latin1 = try file("latin1.jsonl", Array("{}\n{\"a\": \"Jos".utf8) + [0xE9, 0x22, 0x7D])
        XCTAssertEqual(readError(latin1), "\(latin1):2: invalid UTF-8 (column 11); save the file as UTF-8")
    }

    // MARK: - Writing

    func testWritingEachFormat() throws {
        let records = [
            record(["id": "1", "userName": "bjensen", "active": true, "emails": [["value": "bj@x", "primary": true]]]),
            record(["id": "2", "userName": "山田", "active": false]),
        ]
        let json = "\(directory)/out.json"
        try save(records, to: json)
        XCTAssertEqual(
            try contents(json),
            """
            [
              {
                "id": "1",
                "userName": "bjensen",
                "active": true,
                "emails": [
                  {
                    "value": "bj@x",
                    "primary": true
                  }
                ]
              },
              {
                "id": "2",
                "userName": "山田",
                "active": false
              }
            ]

            """
        )
        XCTAssertEqual(try readAll(json), records)

        let jsonl = "\(directory)/out.JSONL"
        try save(records, to: jsonl)
        XCTAssertEqual(
            try contents(jsonl),
            #"{"id":"1","userName":"bjensen","active":true,"emails":[{"value":"bj@x","primary":true}]}"# + "\n"
                + #"{"id":"2","userName":"山田","active":false}"# + "\n"
        )
        XCTAssertEqual(try readAll(jsonl), records)

        let csv = "\(directory)/out.csv"
        try save(records, to: csv)
        XCTAssertEqual(try contents(csv), "id,userName,displayName,active,email\n1,bjensen,,true,bj@x\n2,山田,,false,\n")
        XCTAssertEqual(
            try readAll(csv),
            [
                record(["id": "1", "userName": "bjensen", "active": "true", "email": "bj@x"]),
                record(["id": "2", "userName": "山田", "active": "false"]),
            ]
        )
        XCTAssertEqual(try directoryListing(), ["out.JSONL", "out.csv", "out.json"], "no temporary files are left")
    }

    func testWritingZeroRecords() throws {
        try save([], to: "\(directory)/empty.json")
        XCTAssertEqual(try contents("\(directory)/empty.json"), "[]\n")
        XCTAssertEqual(try readAll("\(directory)/empty.json"), [])
        try save([], to: "\(directory)/empty.jsonl")
        XCTAssertEqual(try contents("\(directory)/empty.jsonl"), "")
        try save([], to: "\(directory)/cols.csv", columns: ["userName", "email"])
        XCTAssertEqual(try contents("\(directory)/cols.csv"), "userName,email\n")
        XCTAssertEqual(try readAll("\(directory)/cols.csv"), [])
    }

    func testCSVRoundTrip() throws {
        let nasty = [
            "plain", "a,b", "say \"hi\"", "two\nlines", "crlf\r\nline", " lead", "trail ", "=SUM(A1:A2)", "-1",
            "@x", "山田太郎", "Jose\u{301}", "👨‍👩‍👧", "\"", ",", "\"\"", "tab\there", "x\"y",
        ]
        let records = nasty.enumerated().map { i, value in
            record([
                "userName": .string("user\(i)"), "displayName": .string(value),
                "name": ["familyName": .string(value), "givenName": .string("g\(i)")],
            ])
        }
        let path = "\(directory)/roundtrip.csv"
        try save(records, to: path, columns: ["userName", "displayName", "name.familyName", "name.givenName"])
        XCTAssertEqual(try readAll(path), records)
    }

    func testLargeCSVStreamsAcrossChunks() throws {
        // Enough rows for many 64 KiB chunk boundaries, some inside quoted fields and CRLF pairs.
        let records = (0..<6000).map { i in
            record([
                "id": .string("\(i)"),
                "note": .string(i % 3 == 0 ? "multi\r\nline, \"quoted\" \(i)" : "plain value number \(i)"),
            ])
        }
        let path = "\(directory)/large.csv"
        try save(records, to: path, columns: ["id", "note"])
        let back = try readAll(path)
        XCTAssertEqual(back.count, records.count)
        XCTAssertEqual(zip(back, records).first { $0 != $1 }.map { "\($0.0)" }, nil, "every record reads back")
    }

    func testFailedRunLeavesNoFileAndKeepsTheOldOne() throws {
        let path = try file("users.json", "old contents")
        do {
            let writer = try RecordFileWriter(path: path)
            try writer.write(record(["id": "1"]))
            XCTAssertEqual(try directoryListing().count, 2, "a temporary file beside the target")
            writer.discard()
            XCTAssertThrowsError(try writer.write(record(["id": "2"]))) {
                XCTAssertEqual("\($0)", "\(path): cannot write: the file was discarded")
            }
        }
        XCTAssertEqual(try contents(path), "old contents")
        XCTAssertEqual(try directoryListing(), ["users.json"])

        do {
            let writer = try RecordFileWriter(path: "\(directory)/dropped.csv")
            try writer.write(record(["id": "1"]))
        }
        XCTAssertEqual(try directoryListing(), ["users.json"], "a writer dropped without close removes its file")

        let writer = try RecordFileWriter(path: path)
        try writer.write(record(["id": "1"]))
        try writer.close()
        try writer.close()
        XCTAssertEqual(try contents(path), "[\n  {\n    \"id\": \"1\"\n  }\n]\n")
        XCTAssertThrowsError(try writer.write(record(["id": "2"]))) {
            XCTAssertEqual("\($0)", "\(path): cannot write: the file is already closed")
        }
    }

    func testWriterErrors() throws {
        let missingDir = "\(directory)/nope/users.csv"
        XCTAssertThrowsError(try RecordFileWriter(path: missingDir)) {
            XCTAssertEqual("\($0)", "\(missingDir): cannot write: No such file or directory")
        }
        let dir = "\(directory)/folder.csv"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        XCTAssertThrowsError(try RecordFileWriter(path: dir)) {
            XCTAssertEqual("\($0)", "\(dir): cannot write: Is a directory")
        }
        let unknown = "\(directory)/users.xlsx"
        XCTAssertThrowsError(try RecordFileWriter(path: unknown)) {
            XCTAssertEqual("\($0)", "\(unknown): cannot tell the file format from the name; use .csv, .json or .jsonl")
        }
        let readOnly = "\(directory)/ro"
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: readOnly)
        guard geteuid() != 0 else { throw XCTSkip("permissions do not apply to root") }
        XCTAssertThrowsError(try RecordFileWriter(path: "\(readOnly)/users.json")) {
            XCTAssertEqual("\($0)", "\(readOnly)/users.json: cannot write: Permission denied")
        }
    }

    func testRelativePathsWork() throws {
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(directory))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        try save([record(["userName": "a"])], to: "rel.jsonl")
        XCTAssertEqual(try readAll("rel.jsonl"), [record(["userName": "a"])])
        XCTAssertEqual(readError("gone.jsonl"), "gone.jsonl: cannot read: No such file or directory")
    }

    // MARK: - Untrusted input

    /// A small seeded generator, so a failing input can be reproduced.
    private struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testRandomAndMutatedInputNeverTraps() throws {
        var rng = SplitMix64(state: 7)
        let pieces: [[UInt8]] = [
            Array("\"".utf8), Array(",".utf8), Array("\n".utf8), Array("\r".utf8), Array("\r\n".utf8),
            Array("{".utf8), Array("}".utf8), Array("[".utf8), Array("]".utf8), Array(":".utf8), Array("\\".utf8),
            Array("a".utf8), Array("name.familyName".utf8), Array("..".utf8), Array(" ".utf8), Array("1e999".utf8),
            Array("null".utf8), Array("山".utf8), Array("👍".utf8), [0xE9], [0xFF], [0xC3], [0xEF, 0xBB, 0xBF],
            [0xFF, 0xFE], [0x00], Array("\"Resources\":".utf8), Array("\\u".utf8), Array("\\ud800".utf8),
        ]
        let seeds = [
            "userName,name.familyName,email\nbjensen,Jensen,\"a\"\"b\"\n",
            "[{\"userName\":\"a\",\"x\":[1,{\"y\":null}]},2]",
            "{\"id\":\"1\"}\n{\"id\":2}\n",
        ]
        // Rewriting a file on a disk file system can wait for a flush each time; use memory when there is some.
        let shm = "/dev/shm/scimsh-recordio-\(UUID().uuidString)"
        let fuzzDirectory =
            (try? FileManager.default.createDirectory(atPath: shm, withIntermediateDirectories: false))
            .map { shm } ?? directory
        defer { if fuzzDirectory != directory { try? FileManager.default.removeItem(atPath: fuzzDirectory) } }
        var outcomes = 0
        for i in 0..<1500 {
            var bytes: [UInt8]
            if i % 2 == 0 {
                bytes = Array(seeds[i % seeds.count].utf8)
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let at = Int.random(in: 0...bytes.count, using: &rng)
                    if Bool.random(using: &rng), at < bytes.count {
                        bytes.remove(at: at)
                    } else {
                        bytes.insert(contentsOf: pieces[Int.random(in: 0..<pieces.count, using: &rng)], at: at)
                    }
                }
            } else {
                bytes = (0..<Int.random(in: 0...40, using: &rng)).flatMap { _ in
                    pieces[Int.random(in: 0..<pieces.count, using: &rng)]
                }
            }
            let path = "\(fuzzDirectory)/input.bin"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            for format in [RecordFileFormat.csv, .json, .jsonl] {
                do {
                    let reader = try RecordFileReader(path: path, format: format)
                    var reads = 0
                    // Keep reading past per-record errors; a reader always reaches its end.
                    while reads < 10_000 {
                        reads += 1
                        do {
                            guard try reader.next() != nil else { break }
                        } catch {
                            XCTAssertFalse("\(error)".isEmpty)
                        }
                    }
                    XCTAssertLessThan(reads, 10_000, "reading ends (\(format), input \(i))")
                } catch {
                    XCTAssertTrue("\(error)".hasPrefix(path), "\(error)")
                }
                outcomes += 1
            }
        }
        XCTAssertEqual(outcomes, 4500)
    }
}
