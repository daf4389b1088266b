import Foundation
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// Golden tests of the statements: set, unset, vars, let, source, echo, help, explain.
final class InterpreterStatementTests: InterpreterTestCase {
    // MARK: set / unset / vars

    func testVarsMasksSecretsAndNeverPrintsTheToken() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"set x = 5; set greeting = "hi there"; set api_token = "api-secret-42"; vars"#)
        XCTAssertEqual(r.exitCode, 0)
        let lines = h.data.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, lines.sorted(), "sorted by name")
        for expected in [
            "api_token = ****", "token = ****", "x = 5", "greeting = hi there", "host = \(h.host)",
            "base_path = /api/v1/scim", "page_size = 100", "concurrency = 8", "output = table", "timeout = 30",
        ] {
            XCTAssertTrue(lines.contains(expected), "vars lists \(expected):\n\(h.data)")
        }
        XCTAssertFalse(h.data.contains(SandboxConfiguration.defaultAdminToken))
        XCTAssertFalse(h.data.contains("api-secret-42"))
        XCTAssertEqual(h.messages, "")
    }

    func testSetValuesAreTyped() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"set n = 42; set b = true; set s = "42"; set w = word; set z = null"#)
        XCTAssertEqual(r.exitCode, 0)
        let s = h.interpreter.session
        XCTAssertEqual(s.value("n"), .number(42))
        XCTAssertEqual(s.value("b"), .bool(true))
        XCTAssertEqual(s.value("s"), .string("42"))
        XCTAssertEqual(s.value("w"), .string("word"))
        XCTAssertEqual(s.value("z"), .null)
    }

    func testSetFromVariableAndInterpolation() async throws {
        let h = try await makeHarness(environment: ["ODM_TOKEN": "env-token-xyz"])
        let r = await h.run(#"set a = "x"; set b = "${a}y$a"; set c = $b; set token = $env.ODM_TOKEN; echo $c"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "xyx\n")
        XCTAssertEqual(h.interpreter.session.value("token"), .string("env-token-xyz"))
    }

    func testUnset() async throws {
        let h = try await makeHarness()
        var r = await h.run("set x = 1; unset x; echo $x")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "")
        XCTAssertEqual(
            h.messages,
            """
            <input>:1:26: error: unknown variable '$x' (set it first: set x = VALUE)
                set x = 1; unset x; echo $x
                                         ^~

            """)
        // Unsetting a setting goes back to its default.
        r = await h.fresh("set page_size = 5; unset page_size; echo $page_size")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "100\n")
    }

    func testUnsetTokenStopsSendingIt() async throws {
        let h = try await makeHarness()
        let r = await h.run("unset token; find | count")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.contains("401"), h.messages)
        XCTAssertEqual(h.log.map(\.status), [401])
    }

    func testSettingsAreValidated() async throws {
        let cases: [(String, String)] = [
            (
                "set output = xml",
                "<input>:1:14: error: output must be one of table, json, jsonl, csv, show (not 'xml')\n    set output = xml\n                 ^~~\n"
            ),
            (
                "set on_error = maybe",
                "<input>:1:16: error: on_error must be stop or continue (not 'maybe')\n    set on_error = maybe\n                   ^~~~~\n"
            ),
            (
                "set page_size = 0",
                "<input>:1:17: error: page_size must be a whole number from 1 to 10000\n    set page_size = 0\n                    ^\n"
            ),
            (
                "set concurrency = 1.5",
                "<input>:1:19: error: concurrency must be a whole number from 1 to 256\n    set concurrency = 1.5\n                      ^~~\n"
            ),
            (
                "set host = example.com",
                "<input>:1:12: error: host must start with http:// or https:// (got 'example.com')\n    set host = example.com\n               ^~~~~~~~~~~\n"
            ),
        ]
        for (text, expected) in cases {
            let h = try await makeHarness()
            let before = h.interpreter.session.value("output")
            let r = await h.run(text)
            XCTAssertEqual(r.exitCode, 1, text)
            XCTAssertEqual(h.messages, expected, text)
            XCTAssertEqual(h.interpreter.session.value("output"), before, "an invalid value is not kept")
        }
    }

    // MARK: secrets

    func testTokenNeverAppearsInOutput() async throws {
        let h = try await makeHarness()
        let token = SandboxConfiguration.defaultAdminToken
        let r = await h.run(
            #"""
            set on_error = continue
            echo $token "t=$token" ${token}
            vars
            explain find | patch active=true
            get $token
            echo "${nosuch}$token"
            find | where userName eq $token
            """#)
        XCTAssertEqual(r.exitCode, 1, h.messages)
        XCTAssertFalse(h.data.contains(token), h.data)
        XCTAssertFalse(h.messages.contains(token), h.messages)
        XCTAssertTrue(h.data.hasPrefix("**** t=**** ****\n"), h.data)
        XCTAssertTrue(h.messages.contains("error: user ****: 404 Not Found"), h.messages)
    }

    func testSetTokenLineIsRedactedInErrors() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"set token = "sekrit-value" junk"#)
        XCTAssertEqual(r.exitCode, 2)
        XCTAssertFalse(h.messages.contains("sekrit-value"), h.messages)
    }

    // MARK: let and $NAME

    func testLetKeepsRecordsAndFeedsThemOn() async throws {
        let h = try await makeHarness()
        let r = await h.run(
            """
            let some = find | where userName sw "r" or userName sw "m"
            $some | select userName
            $some | count
            vars
            """)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertTrue(
            h.data.hasPrefix("userName\n--------\nrkumar\nmgarcia\n2\n"), h.data)
        XCTAssertTrue(h.data.contains("some = [2 records]\n"), h.data)
        XCTAssertEqual(h.messages, "some: 2 records\n")
        XCTAssertEqual(h.log.count, 1, "let ran find once; $some sends nothing")
    }

    func testLetThenMutate() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"let gone = find userName eq "tnguyen"; $gone | delete | count; $gone | count"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "1\n1\n")
        XCTAssertEqual(h.messages, "gone: 1 record\ndeactivated 1 user\n")
        XCTAssertEqual(h.user("tnguyen")?["active"], .bool(false))
    }

    func testLetEmpty() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"let none = find userName eq "nobody"; $none | count"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.messages, "none: 0 records\n")
        XCTAssertEqual(h.data, "0\n")
    }

    func testRecordListErrors() async throws {
        let h = try await makeHarness()
        var r = await h.run("$nothing | count")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(
            h.messages,
            """
            <input>:1:1: error: unknown variable '$nothing' (bind records with: let nothing = find ...)
                $nothing | count
                ^~~~~~~~

            """)
        r = await h.fresh("set v = 3; $v | count")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(
            h.messages.hasPrefix(
                "<input>:1:12: error: $v holds a value, not records; bind records with: let v = find ...\n"),
            h.messages)
        r = await h.fresh("let l = find --limit 1; echo $l")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(
            h.messages.contains(
                "error: $l holds records; use it as the first stage of a pipeline: $l | ...\n"), h.messages)
        XCTAssertEqual(h.log.count, 1)
    }

    // MARK: source

    func testSourceRunsAFileInThisSession() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        try write("set who = \"rkumar\"\necho sourced $who\n", to: dir + "/lib.scim")
        let r = await h.run("source \(dir)/lib.scim\nfind userName eq $who | select userName")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "sourced rkumar\nuserName\n--------\nrkumar\n")
        XCTAssertEqual(h.messages, "")
    }

    func testSourceRelativePathAndNesting() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try write("echo outer start\nsource sub/inner.scim\necho outer end $inner\n", to: dir + "/outer.scim")
        try write("set inner = \"from inner\"\necho inner\n", to: dir + "/sub/inner.scim")
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        let r = await h.run("source outer.scim")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "outer start\ninner\nouter end from inner\n")
        XCTAssertEqual(h.messages, "")
    }

    func testSourceMissingFile() async throws {
        let h = try await makeHarness()
        let r = await h.run("echo before\nsource /nonexistent/x.scim\necho after")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "before\n")
        XCTAssertEqual(
            h.messages,
            """
            <input>:2:8: error: cannot read '/nonexistent/x.scim': No such file or directory
                source /nonexistent/x.scim
                       ^~~~~~~~~~~~~~~~~~~

            """)
    }

    func testSourceDirectory() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        let r = await h.run(#"source "\#(dir)""#)
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.hasPrefix("<input>:1:8: error: cannot read '\(dir)': it is a directory\n"), h.messages)
    }

    func testSourceErrorsNameTheSourcedFile() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        try write("echo one\necho $missing\necho three\n", to: dir + "/bad.scim")
        var r = await h.run("source \(dir)/bad.scim\necho after")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "one\n")
        XCTAssertEqual(
            h.messages,
            """
            \(dir)/bad.scim:2:6: error: unknown variable '$missing' (set it first: set missing = VALUE)
                echo $missing
                     ^~~~~~~~

            """)
        try write("echo one\nfind | \n", to: dir + "/parse.scim")
        r = await h.fresh("source \(dir)/parse.scim")
        XCTAssertEqual(r.exitCode, 1, "the sourcing statement fails")
        XCTAssertEqual(h.data, "", "a parse error in the file runs nothing of it")
        XCTAssertEqual(
            h.messages,
            """
            \(dir)/parse.scim:2:6: error: expected a command after '|'
                find | 
                     ^

            """)
    }

    func testSourceRecursionIsBounded() async throws {
        let h = try await makeHarness()
        let dir = try makeTemporaryDirectory()
        try write("source \(dir)/loop.scim\n", to: dir + "/loop.scim")
        let r = await h.run("source \(dir)/loop.scim")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(
            h.messages.contains("error: source nested more than 16 deep (a file sources itself?)"), h.messages)
    }

    // MARK: echo

    func testEchoInterpolation() async throws {
        let h = try await makeHarness(environment: ["GREETING": "hello", "EMPTY": ""])
        let r = await h.run(
            #"""
            set name = "world"
            echo "$env.GREETING, ${name}!" 'raw $name' $name 3 true
            echo "tab\there" "quote\"d" "back\\slash"
            echo $env.GREETING
            """#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "hello, world! raw $name world 3 true\ntab\there quote\"d back\\slash\nhello\n")
        XCTAssertEqual(h.messages, "")
    }

    func testEchoMissingEnvironmentVariable() async throws {
        let h = try await makeHarness(environment: [:])
        let r = await h.run("echo $env.NOPE_NOT_SET")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(
            h.messages,
            """
            <input>:1:6: error: environment variable NOPE_NOT_SET is not set
                echo $env.NOPE_NOT_SET
                     ^~~~~~~~~~~~~~~~~

            """)
    }

    func testScriptArguments() async throws {
        let h = try await makeHarness(arguments: ["bjensen", "second"])
        var r = await h.run(#"echo $1 "$2"; find userName eq $1 | select userName"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(h.data, "bjensen second\nuserName\n--------\nbjensen\n")
        r = await h.fresh("echo $3")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertTrue(h.messages.contains("error: no script argument $3 (the script got 2 arguments)"), h.messages)
    }

    // MARK: help

    func testHelpOverview() async throws {
        let h = try await makeHarness()
        let r = await h.run("help")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertTrue(h.data.hasPrefix("scimsh "), h.data)
        for c in h.interpreter.commands {
            XCTAssertTrue(h.data.contains("  \(c.name)"), "help lists \(c.name)")
            XCTAssertTrue(h.data.contains(c.summary), "help shows the summary of \(c.name)")
        }
        for statement in [
            "set NAME = VALUE", "unset NAME", "vars", "let NAME = PIPELINE", "source FILE", "echo ARGS",
            "explain PIPELINE",
        ] {
            XCTAssertTrue(h.data.contains(statement), statement)
        }
        XCTAssertEqual(h.messages, "")
        XCTAssertEqual(h.log, [])
    }

    func testHelpEveryTopic() async throws {
        let h = try await makeHarness()
        let topics: [(String, String)] = [
            ("filter", "SCIM filters (RFC 7644 §3.4.2.2)"),
            ("variables", "Variables: set NAME = VALUE"),
            ("syntax", "A statement ends at a newline or ';'"),
            ("statements", "set NAME = VALUE      set a session variable"),
            ("exit-codes", "Exit codes of scimsh:"),
        ]
        for (topic, start) in topics {
            let r = await h.fresh("help \(topic)")
            XCTAssertEqual(r.exitCode, 0, topic)
            XCTAssertTrue(h.data.hasPrefix(start), "help \(topic):\n\(h.data)")
            XCTAssertTrue(h.data.hasSuffix("\n"))
            XCTAssertEqual(h.messages, "")
        }
        await h.fresh("help exit-codes")
        XCTAssertEqual(
            h.data,
            """
            Exit codes of scimsh:
              0    every statement succeeded
              1    a statement failed at run time (an HTTP error, a failed user in a bulk change, a missing file),
                   or a connection profile's token could not be fetched
              2    a usage or parse error, or a bad profiles file or profile name (nothing ran)
              130  interrupted with Ctrl-C
              143  stopped by SIGTERM (129: SIGHUP), as by Ctrl-C

            """)
        // Aliases of topics, and statement keywords.
        for (alias, same) in [("vars", "variables"), ("let", "statements"), ("FIND", "find"), ("deactivate", "delete")]
        {
            await h.fresh("help \(same)")
            let expected = h.data
            await h.fresh("help \(alias)")
            XCTAssertEqual(h.data, expected, "help \(alias) = help \(same)")
        }
    }

    func testHelpUnknownTopic() async throws {
        let h = try await makeHarness()
        var r = await h.run("help fnd")
        XCTAssertEqual(r.exitCode, 1)
        XCTAssertEqual(h.data, "")
        XCTAssertEqual(h.messages, "error: no help for 'fnd' (did you mean 'find'?); type 'help' for the list\n")
        r = await h.fresh("help zzzzzz")
        XCTAssertEqual(h.messages, "error: no help for 'zzzzzz'; type 'help' for the list\n")
    }

    // MARK: explain

    func testExplainShowsRequestsAndSendsNothing() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"explain find userName eq "bjensen" | patch active=false"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(
            h.data,
            """
            pipeline: 2 stages
            1. find (sends reads)
               filter: userName eq "bjensen"
               parse tree:
                 eq userName "bjensen"
               first page (then startIndex=101, ... while more remain):
                 GET \(h.host)/api/v1/scim/Users?filter=userName%20eq%20%22bjensen%22&startIndex=1&count=100
                 Accept: application/scim+json, application/json
                 User-Agent: scimsh/0.1.0
                 Authorization: Bearer ****
            2. patch (sends writes)
               active = false
               for each input user:
                 PATCH \(h.host)/api/v1/scim/Users/{id}
                 Accept: application/scim+json, application/json
                 User-Agent: scimsh/0.1.0
                 Authorization: Bearer ****
                 Content-Type: application/scim+json
                 {
                   "schemas": [
                     "urn:ietf:params:scim:api:messages:2.0:PatchOp"
                   ],
                   "Operations": [
                     {
                       "op": "replace",
                       "value": {
                         "active": false
                       }
                     }
                   ]
                 }

            """)
        XCTAssertEqual(h.messages, "")
        XCTAssertEqual(h.log, [], "explain sends nothing")
        XCTAssertEqual(h.activeUserNames, Seed.activeNames)
    }

    func testExplainDeleteAndCreate() async throws {
        let h = try await makeHarness()
        var r = await h.run("explain delete \(Seed.bjensen)")
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertEqual(
            h.data,
            """
            pipeline: 1 stage
            1. delete (sends writes)
               argument: "\(Seed.bjensen)"
               for user \(Seed.bjensen):
                 DELETE \(h.host)/api/v1/scim/Users/\(Seed.bjensen)
                 Accept: application/scim+json, application/json
                 User-Agent: scimsh/0.1.0
                 Authorization: Bearer ****

            """)
        r = await h.fresh(#"explain create userName=x externalId="7" active=false email=a@b.c"#)
        XCTAssertEqual(r.exitCode, 0)
        XCTAssertTrue(
            h.data.contains(
                """
                       "userName": "x",
                       "externalId": "7",
                       "active": false,
                       "emails": [
                """), h.data)
        XCTAssertFalse(h.data.contains(SandboxConfiguration.defaultAdminToken))
        XCTAssertEqual(h.writes, [])
        XCTAssertEqual(h.log, [])
    }

    func testExplainWithApiTokenMasksIt() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"unset token; set api_token = "my-api-token-1"; explain find --limit 1"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertTrue(h.data.contains("Genestack-API-Token: ****\n"), h.data)
        XCTAssertFalse(h.data.contains("my-api-token-1"))
        XCTAssertEqual(h.log, [])
    }

    func testExplainLocalStagesAndRecordLists() async throws {
        let h = try await makeHarness()
        let r = await h.run(#"let l = find --limit 2; explain $l | where active eq true | count"#)
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertEqual(
            h.data,
            """
            pipeline: 3 stages
            1. $l: 2 records kept with let
            2. where (local, no request)
               filter: active eq true
               parse tree:
                 eq active true
            3. count (local, no request)

            """)
        XCTAssertEqual(h.log.count, 1, "only let's find")
    }

    func testExplainUnknownCommand() async throws {
        let h = try await makeHarness()
        let r = await h.run("explain find | fnd")
        XCTAssertEqual(r.exitCode, 2)
        XCTAssertTrue(h.messages.hasPrefix("<input>:1:16: error: unknown command 'fnd'"), h.messages)
        XCTAssertEqual(h.log, [])
    }
}
