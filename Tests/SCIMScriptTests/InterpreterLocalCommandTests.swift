import Foundation
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// Golden tests of the local stages (where, select, sort, first, count, expect, import, save) and the output
/// stages, fed by a real sandbox.
final class InterpreterLocalCommandTests: InterpreterTestCase {
    // MARK: where

    func testWhereContainsOrStartsWith() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find | where displayName co "Jen" or userName sw "r" | select userName"#)
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "userName\n--------\nbjensen\nrkumar\n")
        XCTAssertEqual(h.messages, "")
        XCTAssertEqual(h.log.count, 1, "where sends nothing")
    }

    func testWhereNotAndValuePath() async throws {
        let h = try await makeHarness()
        let r = await h.run(
            #"find | where not (userName sw "svc") and emails[type eq "work" and value ew "example.org"] | select userName"#
        )
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "userName\n------------\nalice.martin\nrkumar\nmgarcia\ntnguyen\n")
    }

    func testWherePresent() async throws {
        let h = try await makeHarness()
        let r = await h.run("find | where externalId pr | select userName externalId")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(
            h.data,
            """
            userName      externalId
            ------------  ----------
            bjensen       701984
            alice.martin  EMP-1002
            rkumar        EMP-1003
            mgarcia       EMP-1004

            """)
    }

    func testWhereComparesCaseInsensitivelyAndDates() async throws {
        let h = try await makeHarness()
        let r = await h.run(
            #"find | where userName eq "BJENSEN" or meta.created gt "2024-02-01T00:00:00Z" | select userName"#)
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "userName\n------------\nbjensen\ntnguyen\nsvc-pipeline\n")
    }

    func testWhereNothingMatches() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find | where displayName co "zzz""#)
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "")
        XCTAssertEqual(h.messages, "(0 records)\n")
    }

    func testWhereWithVariable() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"set part = "Kum"; find | where displayName co $part | select userName"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "userName\n--------\nrkumar\n")
    }

    // MARK: select

    func testSelectDottedPaths() async throws {
        let h = try await makeHarness()
        let r = await h.run("find | select userName emails.value meta.created name.familyName")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(
            h.data,
            """
            userName      emails.value              meta.created              name.familyName
            ------------  ------------------------  ------------------------  ---------------
            bjensen       bjensen@example.com       2010-01-23T04:56:22.000Z
            alice.martin  alice.martin@example.org  2024-01-15T09:00:00.000Z
            rkumar        rahul.kumar@example.org   2024-01-16T09:00:00.000Z
            mgarcia       maria.garcia@example.org  2024-01-23T09:00:00.000Z
            tnguyen       thanh.nguyen@example.org  2024-02-06T09:00:00.000Z
            svc-pipeline  pipeline-bot@example.org  2024-03-14T09:00:00.000Z

            """)
    }

    func testSelectKeepsOnlyTheNamedAttributesInJSON() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find userName eq "bjensen" | select displayName meta.resourceType emails.type | jsonl"#)
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(
            h.data, #"{"displayName":"Barbara Jensen","meta.resourceType":"User","emails.type":"work"}"# + "\n")
    }

    // MARK: sort

    func testSortDescending() async throws {
        let h = try await makeHarness()
        let r = await h.run("find | sort displayName desc | select displayName")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(
            h.data,
            """
            displayName
            -------------------------------
            Thanh Nguyen
            Rahul Kumar
            María García
            Data Pipeline (service account)
            Barbara Jensen
            Alice Martin

            """)
    }

    func testSortAscendingIsTheDefault() async throws {
        let h = try await makeHarness()
        let r = await h.run("find | sort userName | select userName")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(
            h.data, "userName\n------------\nalice.martin\nbjensen\nmgarcia\nrkumar\nsvc-pipeline\ntnguyen\n")
        await h.fresh("find | sort userName asc | select userName")
        XCTAssertEqual(
            h.data, "userName\n------------\nalice.martin\nbjensen\nmgarcia\nrkumar\nsvc-pipeline\ntnguyen\n")
    }

    func testSortByMultipleKeys() async throws {
        let h = try await makeHarness()
        let r = await h.run(
            #"patch \#(Seed.rkumar) displayName="Same"; patch \#(Seed.bjensen) displayName="Same""#
                + "\nfind | sort displayName desc userName | select displayName userName")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertTrue(
            h.data.hasSuffix(
                """
                displayName                      userName
                -------------------------------  ------------
                Thanh Nguyen                     tnguyen
                Same                             bjensen
                Same                             rkumar
                María García                     mgarcia
                Data Pipeline (service account)  svc-pipeline
                Alice Martin                     alice.martin

                """), h.data)
    }

    func testSortMissingValuesLast() async throws {
        let h = try await makeHarness()
        let r = await h.run("find | sort externalId desc | select userName externalId")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(
            h.data,
            """
            userName      externalId
            ------------  ----------
            mgarcia       EMP-1004
            rkumar        EMP-1003
            alice.martin  EMP-1002
            bjensen       701984
            tnguyen
            svc-pipeline

            """)
    }

    // MARK: first, count

    func testFirstSendsExactlyOneRequest() async throws {
        let h = try await makeHarness(generatedUsers: 500)
        let r = await h.run("set page_size = 50\nfind | first 2 | select userName")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "userName\n------------\nbjensen\nalice.martin\n")
        XCTAssertEqual(h.log.map(\.description), ["GET /api/v1/scim/Users?startIndex=1&count=50 -> 200"])
    }

    func testFirstDefaultsToOne() async throws {
        let h = try await makeHarness()
        let r = await h.run("find | first | select userName")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "userName\n--------\nbjensen\n")
    }

    func testFirstZero() async throws {
        let h = try await makeHarness()
        let r = await h.run("find | first 0")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(h.data, "")
        XCTAssertEqual(h.messages, "(0 records)\n")
    }

    func testCount() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("find | count")
        XCTAssertEqual(h.data, "6\n")
        await h.fresh("find | count | json")
        XCTAssertEqual(h.data, "[\n  {\n    \"count\": 6\n  }\n]\n")
        await h.fresh(#"find userName eq "nobody" | count"#)
        XCTAssertEqual(h.data, "0\n")
        XCTAssertEqual(h.messages, "")
        // The bare number only for the implicit table output: a table when asked, the record in other formats.
        await h.fresh("find | count | table")
        XCTAssertEqual(h.data, "count\n-----\n6\n")
        await h.fresh("set output = csv; find | count")
        XCTAssertEqual(h.data, "count\n6\n")
    }

    // MARK: expect

    func testExpectPasses() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"find userName eq "bjensen" | expect 1 | patch displayName="BJ" | count"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "1\n")
        XCTAssertEqual(h.messages, "patched 1 user\n")
        XCTAssertEqual(h.user("bjensen")?["displayName"], "BJ")
    }

    func testExpectAbortsWithNoWrites() async throws {
        let h = try await makeHarness()
        let r = await h.run("find | expect 2 | delete\necho after")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "")
        XCTAssertEqual(
            h.messages,
            """
            <input>:1:8: error: expected 2 records, got 6; stopped before passing any on (nothing was changed by later stages)
                find | expect 2 | delete
                       ^~~~~~~~

            """)
        XCTAssertEqual(h.writes, [], "no PATCH or DELETE")
        XCTAssertEqual(h.activeUserNames, Seed.activeNames)
    }

    func testExpectWithQuotedComparison() async throws {
        let h = try await makeHarness()
        var r = await h.run(#"find | expect ">=" 6 | count"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "6\n")
        r = await h.fresh(#"find | expect "<" 3 | delete"#)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(
            h.messages.contains("error: expected < 3 records, got 6; stopped before passing any on"), h.messages)
        XCTAssertEqual(h.writes, [])
    }

    /// `expect <= 40`, as its help and signature write it.
    func testExpectWithBareComparison() async throws {
        let h = try await makeHarness()
        let r = await h.run("find | expect <= 2 | delete")
        XCTAssertEqual(r.exitCode, 1, "`expect <= 2` (the syntax in expect's help) parses and fails at run time")
        XCTAssertTrue(h.messages.contains("expected <= 2 records, got 6"), h.messages)
        XCTAssertEqual(h.writes, [])
    }

    // MARK: import / save

    func testSaveAndImportRoundTripsInEveryFormat() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        for ext in ["csv", "json", "jsonl"] {
            let path = "\(dir)/users.\(ext)"
            var r = await h.fresh("find | select userName displayName active externalId | save \(path) | count")
            XCTAssertEqual(r.exitCode, 0, h.messages)
            XCTAssertEqual(h.data, "6\n", "save passes records on")
            XCTAssertTrue(FileManager.default.fileExists(atPath: path))
            if ext == "csv" {
                let text = try read(path)
                XCTAssertTrue(
                    text.hasPrefix("userName,displayName,active,externalId\n"),
                    "`select … | save users.csv` writes the selected columns: \(text.prefix(80))")
            }
            r = await h.fresh("import \(path) | table userName displayName active externalId")
            XCTAssertEqual(r.exitCode, 0, h.messages)
            XCTAssertEqual(
                h.data,
                """
                userName      displayName                      active  externalId
                ------------  -------------------------------  ------  ----------
                bjensen       Barbara Jensen                   true    701984
                alice.martin  Alice Martin                     true    EMP-1002
                rkumar        Rahul Kumar                      true    EMP-1003
                mgarcia       María García                     true    EMP-1004
                tnguyen       Thanh Nguyen                     true
                svc-pipeline  Data Pipeline (service account)  true

                """, ext)
            XCTAssertEqual(h.log, [], "import sends nothing")
        }
        XCTAssertEqual(
            try read("\(dir)/users.csv").replacingOccurrences(of: "\r\n", with: "\n"),
            """
            userName,displayName,active,externalId
            bjensen,Barbara Jensen,true,701984
            alice.martin,Alice Martin,true,EMP-1002
            rkumar,Rahul Kumar,true,EMP-1003
            mgarcia,María García,true,EMP-1004
            tnguyen,Thanh Nguyen,true,
            svc-pipeline,Data Pipeline (service account),true,

            """)
        let jsonl = try read("\(dir)/users.jsonl").split(separator: "\n")
        XCTAssertEqual(jsonl.count, 6)
        XCTAssertEqual(
            jsonl.first.map(String.init),
            #"{"userName":"bjensen","displayName":"Barbara Jensen","active":true,"externalId":"701984"}"#)
    }

    func testImportedJSONKeepsTypes() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        try write(#"[{"userName":"a","active":false,"n":3},{"userName":"b","active":true}]"#, to: dir + "/x.json")
        let r = await h.run("import \(dir)/x.json | where active eq false | jsonl")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, #"{"userName":"a","active":false,"n":3}"# + "\n")
    }

    func testSaveThenDeleteKeepsABackup() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        let r = await h.run(#"find userName eq "rkumar" | save \#(dir)/before.jsonl | delete | count"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.messages, "deactivated 1 user\n")
        let saved = try read(dir + "/before.jsonl")
        XCTAssertTrue(saved.contains(#""userName":"rkumar""#))
        XCTAssertTrue(saved.contains(#""active":true"#), "saved before the delete")
        XCTAssertEqual(h.user("rkumar")?["active"], .bool(false))
    }

    // MARK: output stages and the output variable

    func testTable() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("find | first 2 | table")
        XCTAssertEqual(
            h.data,
            """
            id                                    userName      displayName     active  email
            ------------------------------------  ------------  --------------  ------  ------------------------
            2819c223-7f76-453a-919d-413861904646  bjensen       Barbara Jensen  true    bjensen@example.com
            5d8a1c52-3b0e-4c1a-9f6e-2a7b9d4e1f01  alice.martin  Alice Martin    true    alice.martin@example.org

            """)
        XCTAssertEqual(h.messages, "")
        await h.fresh("find | first 2 | table userName email")
        XCTAssertEqual(
            h.data,
            """
            userName      email
            ------------  ------------------------
            bjensen       bjensen@example.com
            alice.martin  alice.martin@example.org

            """)
    }

    func testJSON() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("find | first 2 | select userName active | json")
        XCTAssertEqual(
            h.data,
            """
            [
              {
                "userName": "bjensen",
                "active": true
              },
              {
                "userName": "alice.martin",
                "active": true
              }
            ]

            """)
        await h.fresh(#"find userName eq "nobody" | json"#)
        XCTAssertEqual(h.data, "[]\n")
        XCTAssertEqual(h.messages, "(0 records)\n")
    }

    func testJSONLines() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("find | first 2 | select userName emails.value | jsonl")
        XCTAssertEqual(
            h.data,
            """
            {"userName":"bjensen","emails.value":"bjensen@example.com"}
            {"userName":"alice.martin","emails.value":"alice.martin@example.org"}

            """)
    }

    func testJSONLinesOfWholeUsers() async throws {
        let h = try await makeHarness()
        await h.expectSuccess(#"find userName eq "bjensen" | jsonl"#)
        XCTAssertEqual(
            h.data,
            #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"2819c223-7f76-453a-919d-413861904646","externalId":"701984","userName":"bjensen","displayName":"Barbara Jensen","active":true,"emails":[{"type":"work","value":"bjensen@example.com","primary":true}],"meta":{"resourceType":"User","created":"2010-01-23T04:56:22.000Z","lastModified":"2011-05-13T04:42:34.000Z","location":"\#(h.host)/api/v1/scim/Users/2819c223-7f76-453a-919d-413861904646"}}"#
                + "\n")
    }

    func testCSV() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("find | first 2 | csv")
        XCTAssertEqual(
            h.data,
            """
            id,userName,displayName,active,email
            2819c223-7f76-453a-919d-413861904646,bjensen,Barbara Jensen,true,bjensen@example.com
            5d8a1c52-3b0e-4c1a-9f6e-2a7b9d4e1f01,alice.martin,Alice Martin,true,alice.martin@example.org

            """.replacingOccurrences(of: "\n", with: h.data.contains("\r\n") ? "\r\n" : "\n"))
        await h.fresh(#"find | where displayName co "(" | csv userName displayName"#)
        XCTAssertTrue(
            h.data.hasSuffix("svc-pipeline,Data Pipeline (service account)\(h.data.contains("\r\n") ? "\r\n" : "\n")"),
            h.data)
    }

    func testShow() async throws {
        let h = try await makeHarness()
        await h.expectSuccess(#"find userName eq "bjensen" | show"#)
        XCTAssertEqual(
            h.data,
            """
            schemas[0]:        urn:ietf:params:scim:schemas:core:2.0:User
            id:                2819c223-7f76-453a-919d-413861904646
            externalId:        701984
            userName:          bjensen
            displayName:       Barbara Jensen
            active:            true
            emails[0].type:    work
            emails[0].value:   bjensen@example.com
            emails[0].primary: true
            meta.resourceType: User
            meta.created:      2010-01-23T04:56:22.000Z
            meta.lastModified: 2011-05-13T04:42:34.000Z
            meta.location:     \(h.host)/api/v1/scim/Users/2819c223-7f76-453a-919d-413861904646

            """)
    }

    func testShowSeparatesRecords() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("find | first 2 | select userName active | show")
        XCTAssertEqual(h.data, "userName: bjensen\nactive:   true\n\nuserName: alice.martin\nactive:   true\n")
    }

    func testOutputVariable() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("set output = csv\nfind | first 2 | select userName active")
        XCTAssertEqual(
            h.data.replacingOccurrences(of: "\r\n", with: "\n"), "userName,active\nbjensen,true\nalice.martin,true\n")
        await h.fresh("set output = jsonl\nfind | first 1 | select userName")
        XCTAssertEqual(h.data, #"{"userName":"bjensen"}"# + "\n")
        await h.fresh("set output = json\nfind | first 1 | select userName")
        XCTAssertEqual(h.data, "[\n  {\n    \"userName\": \"bjensen\"\n  }\n]\n")
        await h.fresh("set output = show\nfind | first 1 | select userName")
        XCTAssertEqual(h.data, "userName: bjensen\n")
        await h.fresh("set output = table\nfind | first 1 | select userName")
        XCTAssertEqual(h.data, "userName\n--------\nbjensen\n")
        // An explicit output stage wins over the variable.
        await h.fresh("set output = json\nfind | first 1 | select userName | jsonl")
        XCTAssertEqual(h.data, #"{"userName":"bjensen"}"# + "\n")
        // The variable is case-insensitive and `unset` goes back to the table.
        await h.fresh(
            "set output = JSONL\nfind | first 1 | select userName\nunset output\nfind | first 1 | select userName")
        XCTAssertEqual(h.data, #"{"userName":"bjensen"}"# + "\nuserName\n--------\nbjensen\n")
    }

    func testTableIsUnicodeSafe() async throws {
        let h = try await makeHarness()
        await h.expectSuccess(#"create userName=yamada displayName="山田太郎" email=y@example.jp"#)
        await h.fresh(
            #"find | where userName eq "yamada" or userName eq "mgarcia" | table userName displayName active"#)
        XCTAssertEqual(
            h.data,
            """
            userName  displayName   active
            --------  ------------  ------
            mgarcia   María García  true
            yamada    山田太郎      true

            """)
    }
}
