import Foundation
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// Every kind of malformed input gets a compiler-style error (file:line:col, the line, a caret), the right exit
/// code, and runs nothing it should not.
final class InterpreterErrorTests: InterpreterTestCase {
    /// Runs `text` in a fresh harness and checks the status, the exact stderr, that stdout is empty and that no
    /// request was sent.
    func assertError(
        _ text: String, status: RunResult.Status, name: String = "<input>", _ expected: String,
        file: StaticString = #filePath, line: UInt = #line
    ) async throws {
        let h = try await makeHarness()
        let r = await h.run(text, name: name)
        XCTAssertEqual(r.status, status, text, file: file, line: line)
        XCTAssertEqual(h.messages, expected, text, file: file, line: line)
        XCTAssertEqual(h.data, "", text, file: file, line: line)
        XCTAssertEqual(h.log, [], "no request for: \(text)", file: file, line: line)
    }

    // MARK: parse errors (exit 2)

    func testUnterminatedString() async throws {
        try await assertError(
            #"find userName eq "bjensen"#, status: .parseError,
            """
            <input>:1:18: error: unterminated string (started here)
                find userName eq "bjensen
                                 ^

            """)
    }

    func testStrayPipe() async throws {
        try await assertError(
            "find | ", status: .parseError,
            """
            <input>:1:6: error: expected a command after '|'
                find | 
                     ^

            """)
        try await assertError(
            "| find", status: .parseError,
            """
            <input>:1:1: error: expected a command before '|'
                | find
                ^

            """)
        try await assertError(
            "find | | count", status: .parseError,
            """
            <input>:1:6: error: expected a command after '|'
                find | | count
                     ^

            """)
    }

    func testBadFilterNamesItsColumn() async throws {
        try await assertError(
            #"find userName eqq "x""#, status: .parseError,
            """
            <input>:1:15: error: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after 'userName'
                find userName eqq "x"
                              ^~~

            """)
        try await assertError(
            "find userName eq", status: .parseError,
            """
            <input>:1:17: error: expected a value after 'eq'
                find userName eq
                                ^

            """)
        try await assertError(
            #"echo ok; find | where (displayName co "J" | count"#, status: .parseError,
            """
            <input>:1:23: error: unclosed '(' in filter
                echo ok; find | where (displayName co "J" | count
                                      ^

            """)
    }

    func testMissingEquals() async throws {
        try await assertError(
            "set x 5", status: .parseError,
            """
            <input>:1:7: error: expected '=' after 'set x'
                set x 5
                      ^

            """)
        try await assertError(
            "let a find", status: .parseError,
            """
            <input>:1:7: error: expected '=' after 'let a'
                let a find
                      ^~~~

            """)
        try await assertError(
            "find | patch displayName=", status: .parseError,
            """
            <input>:1:26: error: expected a value after 'displayName='
                find | patch displayName=
                                         ^

            """)
    }

    func testErrorPositionInAScriptFile() async throws {
        try await assertError(
            "echo one\n# a comment\nfind | patch\\\n  active=\n", status: .parseError, name: "offboard.scim",
            """
            offboard.scim:4:10: error: expected a value after 'active='
                  active=
                         ^

            """)
    }

    /// A parse error anywhere in the text runs nothing at all, not even the statements before it.
    func testParseErrorRunsNothing() async throws {
        let h = try await makeHarness()
        let r = await h.run(
            """
            echo starting
            create userName=newbie email=newbie@example.com
            find | patch active=false
            find | delete
            find userName eq "unterminated
            """, name: "x.scim")
        XCTAssertEqual(r.status, .parseError)
        XCTAssertEqual(r.exitCode, 2)
        XCTAssertEqual(h.data, "")
        XCTAssertEqual(h.log, [], "no request at all")
        XCTAssertNil(h.user("newbie"))
        XCTAssertEqual(h.activeUserNames, Seed.activeNames)
        XCTAssertTrue(h.messages.hasPrefix("x.scim:5:18: error: unterminated string"), h.messages)
        XCTAssertEqual(r.diagnostic?.render(), h.messages)
    }

    // MARK: run-time errors (exit 1)

    func testUnknownCommandSuggestsAName() async throws {
        let h = try await makeHarness()
        let r = await h.run("find | selct userName")
        XCTAssertNotEqual(r.exitCode, 0)
        XCTAssertEqual(
            h.messages,
            """
            <input>:1:8: error: unknown command 'selct' (did you mean 'select'?)
                find | selct userName
                       ^~~~~

            """)
        XCTAssertEqual(h.log, [], "nothing of the statement ran")
        await h.fresh("frobnicate")
        XCTAssertEqual(
            h.messages,
            """
            <input>:1:1: error: unknown command 'frobnicate' (type 'help' for the list)
                frobnicate
                ^~~~~~~~~~

            """)
    }

    /// An unknown command is a usage error: like a parse error, it should stop a script before anything runs.
    func testUnknownCommandInAScriptRunsNothing() async throws {
        let h = try await makeHarness()
        let r = await h.run("find userName eq \"bjensen\" | delete\nfnd | count\n", name: "s.scim")
        XCTAssertEqual(r.exitCode, 2, "an unknown command stops the script before anything runs:\n\(h.messages)")
        XCTAssertEqual(h.log, [])
    }

    func testUnknownVariable() async throws {
        try await assertError(
            "echo $nosuch", status: .failed,
            """
            <input>:1:6: error: unknown variable '$nosuch' (set it first: set nosuch = VALUE)
                echo $nosuch
                     ^~~~~~~

            """)
        try await assertError(
            "set pagesize = 5; echo $page_siz", status: .failed,
            """
            <input>:1:24: error: unknown variable '$page_siz' (did you mean '$page_size'?)
                set pagesize = 5; echo $page_siz
                                       ^~~~~~~~~

            """)
    }

    func testUnknownVariableInAFilterSendsNothing() async throws {
        let h = try await makeHarness()
        let r = await h.run("find userName eq $who | delete")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.hasPrefix("<input>:1:"), h.messages)
        XCTAssertTrue(h.messages.contains("error: unknown variable '$who'"), h.messages)
        XCTAssertEqual(h.log, [])
    }

    func testUnreadableImportFiles() async throws {
        let dir = try makeTemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/folder.csv", withIntermediateDirectories: true)
        try write("a b c", to: dir + "/notes.txt")
        for (path, reason) in [
            ("/nonexistent/users.csv", "No such file or directory"),
            (dir + "/folder.csv", "directory"),
            (dir + "/notes.txt", "cannot tell the file format from the name; use .csv, .json or .jsonl"),
        ] {
            let h = try await makeHarness()
            let r = await h.run("import \(path) | create")
            XCTAssertEqual(r.exitCode, 1, path)
            XCTAssertTrue(h.messages.hasPrefix("<input>:1:8: error: "), h.messages)
            XCTAssertTrue(h.messages.contains(path), h.messages)
            XCTAssertTrue(h.messages.contains(reason), "\(path): \(h.messages)")
            XCTAssertTrue(h.messages.contains("\n    import \(path) | create\n           ^~~~"), h.messages)
            XCTAssertEqual(h.log, [], path)
        }
    }

    func testMalformedImportContent() async throws {
        let dir = try makeTemporaryDirectory()
        try write("[{\"userName\": \"a\"}, {\"userName\": ", to: dir + "/broken.json")
        try write("{\"userName\":\"a\",\"email\":\"a@example.com\"}\nnot json\n", to: dir + "/broken.jsonl")
        try write("userName,email\n\"unterminated,x\n", to: dir + "/broken.csv")
        try write("[1, 2]", to: dir + "/numbers.json")
        for name in ["broken.json", "broken.jsonl", "broken.csv", "numbers.json"] {
            let h = try await makeHarness()
            let r = await h.run("import \(dir)/\(name) | create")
            XCTAssertEqual(r.exitCode, 1, name)
            XCTAssertTrue(h.messages.contains("error: "), "\(name): \(h.messages)")
            XCTAssertTrue(h.messages.contains(name), "\(name): the message names the file: \(h.messages)")
            XCTAssertNil(h.user("a").flatMap { $0["userName"] == "a" ? nil : $0 })
            if name != "broken.jsonl" {
                XCTAssertEqual(h.writes, [], "\(name): nothing created")
            } else {
                // JSON lines stream: the good first line may be created before the bad second line is read.
                XCTAssertLessThanOrEqual(h.writes.count, 1)
            }
        }
    }

    func testSaveToAnUnwritablePlace() async throws {
        let h = try await makeHarness()
        let r = await h.run("find | save /nonexistent/dir/out.csv | delete")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.hasPrefix("<input>:1:"), h.messages)
        XCTAssertTrue(h.messages.contains("/nonexistent/dir/out.csv"), h.messages)
        XCTAssertEqual(h.writes, [], "no DELETE when the backup cannot be written")
    }

    func testInvalidOutputSetting() async throws {
        try await assertError(
            "set output = xml", status: .failed,
            """
            <input>:1:14: error: output must be one of table, json, jsonl, csv, show (not 'xml')
                set output = xml
                             ^~~

            """)
    }

    func testCommandArgumentErrors() async throws {
        // A bare attribute name takes each input record's value; a quoted word is no attribute name.
        try await assertError(
            #"find | patch "displayName""#, status: .failed,
            """
            <input>:1:14: error: expected ATTR=VALUE, or add/replace/remove (got 'displayName')
                find | patch "displayName"
                             ^~~~~~~~~~~~~

            """)
        try await assertError(
            "find | patch", status: .failed,
            """
            <input>:1:8: error: patch needs OPS...: … | patch OPS...   or   patch ID OPS...
                find | patch
                       ^~~~~

            """)
        try await assertError(
            "delete", status: .failed,
            """
            <input>:1:1: error: delete needs input records or arguments: … | delete [--force]   or   delete ID... [--force]
                delete
                ^~~~~~

            """)
        try await assertError(
            "find | first many", status: .failed,
            """
            <input>:1:14: error: first needs a whole number, not 'many'
                find | first many
                             ^~~~

            """)
        try await assertError(
            "find --limit x", status: .failed,
            """
            <input>:1:6: error: --limit needs a whole number
                find --limit x
                     ^~~~~~~~~

            """)
        try await assertError(
            "find | json | count", status: .failed,
            """
            <input>:1:8: error: 'json' prints records and passes none on, so it must be the last stage
                find | json | count
                       ^~~~

            """)
        try await assertError(
            "find | find", status: .failed,
            """
            <input>:1:8: error: 'find' does not read input, so it must be the first stage
                find | find
                       ^~~~

            """)
        try await assertError(
            "find | patch remove displayName=x", status: .failed,
            """
            <input>:1:21: error: remove takes attribute names, not ATTR=VALUE (write replace first)
                find | patch remove displayName=x
                                    ^~~~~~~~~~~~~

            """)
    }

    func testNoHost() async throws {
        let h = try await makeHarness()
        let r = await h.run("unset host; find")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.contains("no server: set host = "), h.messages)
        XCTAssertEqual(h.log, [])
    }

    // MARK: on_error and exit codes

    static let script = """
        echo one
        get no-such-user
        echo three

        """

    func testOnErrorStopIsTheScriptDefault() async throws {
        let h = try await makeHarness()
        let r = await h.run(Self.script, name: "s.scim")
        XCTAssertEqual(r.status, .failed)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "one\n")
        XCTAssertEqual(
            h.messages,
            """
            error: user no-such-user: 404 Not Found: There are no users with the specified id (GET /api/v1/scim/Users/no-such-user)
            fetched 0 users, 1 failed
            (0 records)

            """)
        await h.fresh("set on_error = stop\n" + Self.script)
        XCTAssertEqual(h.data, "one\n")
    }

    func testOnErrorContinue() async throws {
        let h = try await makeHarness()
        let r = await h.run("set on_error = continue\n" + Self.script + "echo $nope\necho five\n", name: "s.scim")
        XCTAssertEqual(r.status, .failed, "a failed statement still fails the run")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "one\nthree\nfive\n")
        XCTAssertTrue(h.messages.contains("fetched 0 users, 1 failed\n"), h.messages)
        XCTAssertTrue(h.messages.contains("s.scim:5:6: error: unknown variable '$nope'"), h.messages)
    }

    func testInteractiveDefaultsToContinue() async throws {
        let h = try await makeHarness(interactive: true)
        let r = await h.run("echo one; echo $nope; echo three")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "one\nthree\n")
    }

    func testRunTimeErrorStopsTheScriptInTheMiddle() async throws {
        let h = try await makeHarness()
        let r = await h.run(
            """
            find userName eq "bjensen" | patch displayName="First"
            find | patch "displayName"
            find userName eq "rkumar" | patch displayName="Never"
            """)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.user("bjensen")?["displayName"], "First")
        XCTAssertEqual(h.user("rkumar")?["displayName"], "Rahul Kumar", "the third statement did not run")
        XCTAssertEqual(h.writes.count, 1)
    }

    func testExitCodes() async throws {
        let h = try await makeHarness()
        let cases: [(String, RunResult.Status, Int32)] = [
            ("echo ok", .success, 0),
            ("", .success, 0),
            ("# only a comment\n\n", .success, 0),
            ("get nope", .failed, 1),
            ("echo $nope", .failed, 1),
            ("echo \"open", .parseError, 2),
            ("set = 3", .parseError, 2),
        ]
        for (text, status, code) in cases {
            let r = await h.run(text)
            XCTAssertEqual(r.status, status, text)
            XCTAssertEqual(r.exitCode, code, text)
        }
    }

    func testEvaluateThrowsScriptErrors() async throws {
        let h = try await makeHarness()
        let users = try await h.interpreter.evaluate(#"find userName eq "bjensen""#)
        XCTAssertEqual(users.map { $0["userName"] }, ["bjensen"])
        XCTAssertEqual(h.data, "", "evaluate returns records instead of printing them")
        do {
            _ = try await h.interpreter.evaluate("echo $nope")
            XCTFail("expected an error")
        } catch let e as ScriptError {
            XCTAssertEqual(e.message, "unknown variable '$nope' (set it first: set nope = VALUE)")
        }
        do {
            _ = try await h.interpreter.evaluate("find |")
            XCTFail("expected an error")
        } catch let e as ScriptError {
            XCTAssertTrue(e.message.contains("expected a command after '|'"), e.message)
        }
    }
}
