import SCIMCore
import SCIMScript
import XCTest

/// Golden-text tests of the output formatters and of terminal width measurement.
final class OutputTests: XCTestCase {
    // MARK: - Helpers

    /// A record from an object literal.
    private func record(_ value: JSONValue) -> Record {
        value.objectValue ?? Record()
    }

    /// Everything a writer prints for these records.
    private func render(
        _ format: OutputFormat,
        _ records: [Record],
        columns: [String]? = nil,
        color: Bool = false
    ) -> String {
        var writer = RecordWriters.make(format, columns: columns, color: color)
        var out = ""
        for r in records { out += writer.write(r) }
        out += writer.finish()
        return out
    }

    private var users: [Record] {
        [
            record([
                "id": "2819c223", "userName": "bjensen", "displayName": "Barbara Jensen", "active": true,
                "emails": [
                    ["value": "bj@example.com", "type": "work"], ["value": "babs@example.org", "primary": true],
                ],
                "meta": ["created": "2024-01-02T03:04:05Z"],
            ]),
            record(["id": "9", "userName": "jsmith", "active": false, "emails": [["value": "js@example.com"]]]),
        ]
    }

    // MARK: - TextWidth

    func testDisplayWidth() {
        XCTAssertEqual(TextWidth.displayWidth(""), 0)
        XCTAssertEqual(TextWidth.displayWidth("bjensen"), 7)
        XCTAssertEqual(TextWidth.displayWidth("山田太郎"), 8)
        XCTAssertEqual(TextWidth.displayWidth("한국어"), 6)
        XCTAssertEqual(TextWidth.displayWidth("ＡＢ"), 4, "fullwidth Latin")
        XCTAssertEqual(TextWidth.displayWidth("ｱｲ"), 2, "halfwidth katakana")
        XCTAssertEqual(TextWidth.displayWidth("Jose\u{301}"), 4, "combining acute accent")
        XCTAssertEqual(TextWidth.displayWidth("\u{301}"), 0, "a lone combining mark")
        XCTAssertEqual(TextWidth.displayWidth("Zoë"), 3, "precomposed")
        XCTAssertEqual(TextWidth.displayWidth("a\u{200B}b"), 2, "zero-width space")
        XCTAssertEqual(TextWidth.displayWidth("👍"), 2)
        XCTAssertEqual(TextWidth.displayWidth("👍🏽"), 2, "skin tone modifier")
        XCTAssertEqual(TextWidth.displayWidth("👨‍👩‍👧"), 2, "ZWJ sequence")
        XCTAssertEqual(TextWidth.displayWidth("🇫🇷"), 2, "flag")
        XCTAssertEqual(TextWidth.displayWidth("❤️"), 2, "emoji presentation selector")
        XCTAssertEqual(TextWidth.displayWidth("❤"), 1, "text presentation by default")
        XCTAssertEqual(TextWidth.displayWidth("1️⃣"), 2, "keycap")
        XCTAssertEqual(TextWidth.displayWidth("a\u{7}b"), 2, "control characters take no column")
    }

    func testPadAndTruncate() {
        XCTAssertEqual(TextWidth.pad("ab", to: 4), "ab  ")
        XCTAssertEqual(TextWidth.pad("日本", to: 5), "日本 ")
        XCTAssertEqual(TextWidth.pad("abcdef", to: 3), "abcdef")
        XCTAssertEqual(TextWidth.truncate("abcdef", to: 6), "abcdef")
        XCTAssertEqual(TextWidth.truncate("abcdef", to: 4), "abc…")
        XCTAssertEqual(TextWidth.truncate("日本語です", to: 5), "日本…")
        XCTAssertEqual(TextWidth.truncate("日本語", to: 4), "日…", "a wide character never straddles the limit")
        XCTAssertEqual(TextWidth.truncate("Jose\u{301} Garci\u{301}a", to: 5), "José…")
        XCTAssertEqual(TextWidth.truncate("👍👍👍", to: 4), "👍…")
        XCTAssertEqual(TextWidth.truncate("abc", to: 1), "…")
        XCTAssertEqual(TextWidth.truncate("abc", to: 0), "")
    }

    // MARK: - table

    func testTableDefaultUserColumns() {
        XCTAssertEqual(
            render(.table, users),
            """
            id        userName  displayName     active  email
            --------  --------  --------------  ------  ----------------
            2819c223  bjensen   Barbara Jensen  true    babs@example.org
            9         jsmith                    false   js@example.com

            """
        )
    }

    func testTableKeysOfNonUserRecords() {
        XCTAssertEqual(render(.table, [record(["count": 5])]), "count\n-----\n5\n")
        XCTAssertEqual(
            render(.table, [record(["a": 1]), record(["b": ["x": [1, 2]], "A": 2.5]), record(["c": nil])]),
            """
            a    b            c
            ---  -----------  -
            1
            2.5  {"x":[1,2]}


            """,
            "a record with no shown values is an empty line"
        )
    }

    func testTableGivenColumnsWithDottedPaths() {
        let r = record([
            "userName": "bjensen", "name": ["familyName": "Jensen"],
            "emails": [["value": "a@x"], ["value": "b@x"]],
        ])
        XCTAssertEqual(
            render(.table, [r], columns: ["userName", "name.familyName", "emails.value", "missing"]),
            """
            userName  name.familyName  emails.value   missing
            --------  ---------------  -------------  -------
            bjensen   Jensen           ["a@x","b@x"]

            """
        )
    }

    func testTableZeroRecordsPrintsNothing() {
        XCTAssertEqual(render(.table, []), "")
        XCTAssertEqual(render(.table, [], columns: ["id"]), "")
    }

    func testTableColorBoldsHeaderOnly() {
        XCTAssertEqual(
            render(.table, [record(["count": 5])], color: true),
            "\u{1B}[1mcount\u{1B}[0m\n-----\n5\n"
        )
    }

    func testTableReplacesControlCharacters() {
        let r = record(["id": "1", "userName": "a\nb\r\nc\td\u{1B}[31m\u{7F}\u{85}"])
        XCTAssertEqual(
            render(.table, [r], columns: ["userName", "id"]),
            """
            userName        id
            --------------  --
            a⏎b⏎c d␛[31m␡⏎  1

            """
        )
    }

    func testTableUnicodeAlignment() {
        let records = [
            record(["userName": "yamada", "displayName": "山田太郎", "title": "部長"]),
            record(["userName": "jose", "displayName": "Jose\u{301} Garci\u{301}a", "title": "CTO"]),
            record(["userName": "emoji", "displayName": "👍🏽 ok 🇫🇷", "title": "—"]),
        ]
        XCTAssertEqual(
            render(.table, records, columns: ["displayName", "title", "userName"]),
            """
            displayName  title  userName
            -----------  -----  --------
            山田太郎     部長   yamada
            José García  CTO    jose
            👍🏽 ok 🇫🇷     —      emoji

            """
        )
    }

    func testTableCapsWideColumnsButNotTheLast() {
        let long = String(repeating: "x", count: 50)
        let r = record(["a": .string(long), "b": .string(long)])
        let expected =
            "a" + String(repeating: " ", count: 39) + "  b\n"
            + String(repeating: "-", count: 40) + "  " + String(repeating: "-", count: 50) + "\n"
            + String(repeating: "x", count: 39) + "…  " + long + "\n"
        XCTAssertEqual(render(.table, [r]), expected)
    }

    func testTableStreamsAfterTheFirstHundredRecords() {
        var writer = RecordWriters.make(.table)
        var outputs: [String] = []
        for i in 1...150 {
            let name = i == 120 ? "a-much-longer-name" : "user\(i)"
            outputs.append(writer.write(record(["id": .string("\(i)"), "userName": .string(name)])))
        }
        let tail = writer.finish()
        XCTAssertEqual(tail, "")
        XCTAssertTrue(outputs[0..<99].allSatisfy(\.isEmpty), "the first 99 records are buffered")
        let first = outputs[99].split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(first.count, 103, "header, separator, 100 rows and the final empty piece")
        XCTAssertEqual(first[0], "id   userName  displayName  active  email")
        XCTAssertEqual(first[1], "---  --------  -----------  ------  -----")
        XCTAssertEqual(first[2], "1    user1")
        XCTAssertEqual(first[101], "100  user100")
        XCTAssertEqual(outputs[100], "101  user101\n")
        XCTAssertEqual(outputs[119], "120  a-much-…\n", "later records keep the widths and are truncated")
        XCTAssertEqual(outputs[149], "150  user150\n")
    }

    func testTableFinishFlushesFewerThanAHundredRecords() {
        var writer = RecordWriters.make(.table)
        XCTAssertEqual(writer.write(record(["id": "1"])), "")
        XCTAssertEqual(
            writer.finish(), "id  userName  displayName  active  email\n--  --------  -----------  ------  -----\n1\n")
        XCTAssertEqual(writer.finish(), "", "finishing twice prints nothing more")
    }

    // MARK: - json

    func testJSONPrettyArray() {
        XCTAssertEqual(
            render(.json, [record(["id": "1", "emails": [["value": "a@x"]], "active": true]), record(["count": 5])]),
            """
            [
              {
                "id": "1",
                "emails": [
                  {
                    "value": "a@x"
                  }
                ],
                "active": true
              },
              {
                "count": 5
              }
            ]

            """
        )
    }

    func testJSONStreamsAndHandlesZeroRecords() {
        XCTAssertEqual(render(.json, []), "[]\n")
        var writer = RecordWriters.make(.json)
        XCTAssertEqual(writer.write(record(["a": 1])), "[\n  {\n    \"a\": 1\n  }")
        XCTAssertEqual(writer.write(record(["b": "x\ny"])), ",\n  {\n    \"b\": \"x\\ny\"\n  }")
        XCTAssertEqual(writer.finish(), "\n]\n")
        XCTAssertEqual(render(.json, [Record()]), "[\n  {}\n]\n")
    }

    // MARK: - jsonl

    func testJSONLines() {
        XCTAssertEqual(
            render(.jsonl, [record(["id": "1", "name": ["givenName": "Zoë"], "n": 1.5]), record([:])]),
            "{\"id\":\"1\",\"name\":{\"givenName\":\"Zoë\"},\"n\":1.5}\n{}\n"
        )
        XCTAssertEqual(render(.jsonl, []), "")
    }

    // MARK: - csv

    func testCSVDefaultUserColumns() {
        XCTAssertEqual(
            render(.csv, users),
            """
            id,userName,displayName,active,email
            2819c223,bjensen,Barbara Jensen,true,babs@example.org
            9,jsmith,,false,js@example.com

            """
        )
    }

    func testCSVQuoting() {
        let r = record([
            "plain": "abc", "comma": "a,b", "quote": "say \"hi\"", "newline": "a\nb", "cr": "a\rb",
            "lead": " x", "trail": "x ", "formula": "=1+1", "nested": ["a": 1, "b": [true, nil]], "null": nil,
            "unicode": "山田", "empty": "",
        ])
        XCTAssertEqual(
            render(.csv, [r]),
            "plain,comma,quote,newline,cr,lead,trail,formula,nested,null,unicode,empty\n"
                + "abc,\"a,b\",\"say \"\"hi\"\"\",\"a\nb\",\"a\rb\",\" x\",\"x \",=1+1,"
                + "\"{\"\"a\"\":1,\"\"b\"\":[true,null]}\",,山田,\n"
        )
    }

    func testCSVColumnsFromFirstRecordAndGivenColumns() {
        XCTAssertEqual(
            render(.csv, [record(["a": 1, "b": 2]), record(["b": 3, "c": 4])]),
            "a,b\n1,2\n,3\n",
            "keys only later records have are not printed"
        )
        XCTAssertEqual(
            render(.csv, users, columns: ["userName", "meta.created", "email"]),
            "userName,meta.created,email\nbjensen,2024-01-02T03:04:05Z,babs@example.org\njsmith,,js@example.com\n"
        )
        XCTAssertEqual(render(.csv, [], columns: ["userName", "odd,name"]), "userName,\"odd,name\"\n")
        XCTAssertEqual(render(.csv, []), "")
        XCTAssertEqual(render(.csv, [record(["a": ""])]), "a\n\"\"\n", "a lone empty field is not a blank line")
    }

    // MARK: - show

    func testShow() {
        XCTAssertEqual(
            render(.show, users + [record(["count": 5, "tags": [], "ext": [:], "x": nil, "s": "a\nb"])]),
            """
            id:                2819c223
            userName:          bjensen
            displayName:       Barbara Jensen
            active:            true
            emails[0].value:   bj@example.com
            emails[0].type:    work
            emails[1].value:   babs@example.org
            emails[1].primary: true
            meta.created:      2024-01-02T03:04:05Z

            id:              9
            userName:        jsmith
            active:          false
            emails[0].value: js@example.com

            count: 5
            tags:  []
            ext:   {}
            x:     null
            s:     a⏎b

            """
        )
    }

    func testShowEmptyRecordAndUnicodeKeys() {
        XCTAssertEqual(render(.show, [Record(), record(["名前": "太郎", "id": ""])]), "{}\n\n名前: 太郎\nid:\n")
        XCTAssertEqual(render(.show, []), "")
    }

    func testEveryFormatHasAWriter() {
        XCTAssertEqual(OutputFormat.allCases.map(\.rawValue), ["table", "json", "jsonl", "csv", "show"])
        for format in OutputFormat.allCases {
            var writer = RecordWriters.make(format)
            _ = writer.write(record(["id": "1"]))
            XCTAssertFalse(writer.finish().contains("\u{1B}"), "no color unless asked (\(format))")
        }
    }
}

/// The live line of a long write (issue 17).
final class ProgressLineTextTests: XCTestCase {
    func testDoneTotalRateAndTimeLeft() {
        XCTAssertEqual(
            ProgressLine.text(verb: "patched", done: 1204, total: 10_000, failed: 0, elapsed: .milliseconds(3460)),
            "patched 1,204/10,000 users · 348/s · 25 s left")
        XCTAssertEqual(
            ProgressLine.text(verb: "deactivated", done: 50, total: 4000, failed: 2, elapsed: .seconds(10)),
            "deactivated 50/4,000 users (2 failed) · 5/s · 13 min 10 s left")
    }

    func testWithoutATotalOnlyTheRate() {
        XCTAssertEqual(
            ProgressLine.text(verb: "created", done: 1_234_567, total: nil, failed: 0, elapsed: .seconds(2)),
            "created 1,234,567 users · 617,284/s")
    }

    func testGroupedDigits() {
        XCTAssertEqual(ProgressLine.grouped(0), "0")
        XCTAssertEqual(ProgressLine.grouped(999), "999")
        XCTAssertEqual(ProgressLine.grouped(1000), "1,000")
        XCTAssertEqual(ProgressLine.grouped(-12_345), "-12,345")
    }
}
