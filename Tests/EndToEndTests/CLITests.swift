import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The `scimsh` binary as a user meets it: exit codes, ways to give it statements, script arguments, output
/// formats, the token, the `sandbox` subcommand, `--version` and `--help`.
final class CLITests: XCTestCase {
    static let bjensenId = "2819c223-7f76-453a-919d-413861904646"
    static let missingId = "00000000-0000-0000-0000-000000000000"

    override func setUpWithError() throws {
        try E2E.requireBinary(Fixtures.scimshPath)
    }

    func scimsh(
        _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
        currentDirectory: String? = nil
    ) throws -> Fixtures.ProcessResult {
        try Fixtures.runScimsh(
            arguments, stdin: stdin, environment: E2E.isolatedEnvironment(environment),
            currentDirectory: currentDirectory, timeout: 30)
    }

    func writeScript(_ text: String, name: String = "script.scim") throws -> (directory: String, path: String) {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (dir, path)
    }

    // MARK: - Exit codes

    func testExitZeroWhenEveryStatementSucceeds() throws {
        let r = try scimsh(["--sandbox", "-c", #"echo hello; find userName eq "bjensen" | count"#])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, "hello\n1\n")
        XCTAssertEqual(r.stderr, "")
    }

    func testExitOneOnARunTimeFailureAndTheScriptStops() throws {
        let (dir, path) = try writeScript("echo before\nget \(Self.missingId)\necho after\n", name: "fail.scim")
        let r = try scimsh(["--sandbox", "fail.scim"], currentDirectory: dir)
        _ = path
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "before\n", "the statement after the failed one does not run")
        XCTAssertEqual(
            r.stderr,
            """
            error: user \(Self.missingId): 404 Not Found: There are no users with the specified id \
            (GET /api/v1/scim/Users/\(Self.missingId))
            fetched 0 users, 1 failed
            (0 records)

            """)
    }

    func testContinueOnErrorRunsTheRestButStillExitsOne() throws {
        let r = try scimsh(["--sandbox", "--continue-on-error", "-c", "get \(Self.missingId); echo after"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "after\n")
    }

    func testExitOneWhenTheServerCannotBeReached() throws {
        let r = try scimsh(["--host", "http://127.0.0.1:1", "-c", "find | count"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(
            r.stderr.contains(
                "error: cannot reach the server: connection refused (GET http://127.0.0.1:1/api/v1/scim/Users"),
            r.stderr)
    }

    func testParseErrorInAScriptFileShowsFileLineColumnAndCaretAndRunsNothing() throws {
        let (dir, _) = try writeScript(
            "echo first\n# a comment\nfind | patch displayName=\necho third\n", name: "offboard.scim")
        let r = try scimsh(["--sandbox", "offboard.scim"], currentDirectory: dir)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "", "nothing runs when the script does not parse")
        XCTAssertEqual(
            r.stderr,
            """
            offboard.scim:3:26: error: expected a value after 'displayName='
                find | patch displayName=
                                         ^

            """)
    }

    func testUnterminatedStringIsAParseError() throws {
        let (dir, _) = try writeScript("echo ok\necho \"unterminated\n", name: "bad.scim")
        let r = try scimsh(["bad.scim"], currentDirectory: dir)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(
            r.stderr,
            """
            bad.scim:2:6: error: unterminated string (started here)
                echo "unterminated
                     ^

            """)
    }

    func testUsageErrors() throws {
        let bogus = try scimsh(["--bogus"])
        XCTAssertEqual(bogus.status, 2)
        XCTAssertEqual(bogus.stdout, "")
        XCTAssertTrue(bogus.stderr.hasPrefix("scimsh: Unknown option '--bogus'\nUsage: scimsh "), bogus.stderr)
        let bogusBeforeAScript = try scimsh(["--sandbox", "--bogus", "script.scim", "--force"])
        XCTAssertEqual(bogusBeforeAScript.status, 2)
        XCTAssertTrue(
            bogusBeforeAScript.stderr.hasPrefix("scimsh: Unknown option '--bogus'\n"), bogusBeforeAScript.stderr)

        let format = try scimsh(["--sandbox", "--output", "xml", "-c", "echo hi"])
        XCTAssertEqual(format.status, 2)
        XCTAssertEqual(format.stdout, "")
        XCTAssertEqual(format.stderr, "scimsh: --output must be one of table, json, jsonl, csv, show (not 'xml')\n")

        let number = try scimsh(["--sandbox-users", "many", "-c", "echo hi"])
        XCTAssertEqual(number.status, 2)
        XCTAssertEqual(number.stdout, "")

        let host = try scimsh(["--host", "odm.example.com", "-c", "echo hi"])
        XCTAssertEqual(host.status, 2)
        XCTAssertEqual(host.stderr, "scimsh: --host must start with http:// or https:// (got 'odm.example.com')\n")

        let missing = try scimsh(["no-such-script.scim"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr, "scimsh: cannot read script 'no-such-script.scim': No such file or directory\n")
    }

    /// ArgumentParser's messages name the program, never its Swift type (`root`), with the usage and exit 2.
    func testArgumentErrorsNameScimsh() throws {
        let r = try scimsh(["--trace"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.hasPrefix("scimsh: Missing value for '--trace <on|curl>'\n"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\nUsage: scimsh [OPTIONS] [FILE.scim [ARGS...]]\n"), r.stderr)
        XCTAssertTrue(r.stderr.hasSuffix("See 'scimsh --help' for more information.\n"), r.stderr)
        XCTAssertFalse(r.stderr.contains("root"), r.stderr)

        let sandbox = try scimsh(["sandbox", "--bogus"])
        XCTAssertEqual(sandbox.status, 2)
        XCTAssertTrue(
            sandbox.stderr.hasPrefix("scimsh: Unknown option '--bogus'\nUsage: scimsh sandbox "), sandbox.stderr)
        XCTAssertTrue(sandbox.stderr.hasSuffix("See 'scimsh sandbox --help' for more information.\n"), sandbox.stderr)

        let stray = try scimsh(["sandbox", "--port", "0", "extra"])
        XCTAssertEqual(stray.status, 2)
        XCTAssertTrue(stray.stderr.hasPrefix("scimsh: Unexpected argument 'extra'\n"), stray.stderr)
    }

    func testFlagsAfterTheScriptBelongToTheScript() throws {
        let (dir, _) = try writeScript("echo $1 $2\n")
        let r = try scimsh(["script.scim", "--bogus", "-h"], currentDirectory: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "--bogus -h\n")
        // Options of scimsh itself and `--` after the script are the script's too; before it they are scimsh's.
        let own = try scimsh(["--norc", "--", "script.scim", "--host", "--"], currentDirectory: dir)
        XCTAssertEqual(own.status, 0, own.stderr)
        XCTAssertEqual(own.stdout, "--host --\n")
    }

    // MARK: - Where statements come from

    func testDashReadsStatementsFromStandardInputWithArguments() throws {
        let r = try scimsh(
            ["--sandbox", "-", "bjensen"], stdin: "set who = $1\nfind userName eq $who | select userName active\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "userName  active\n--------  ------\nbjensen   true\n")
    }

    func testPipedStandardInputWithoutDash() throws {
        let r = try scimsh(["--sandbox"], stdin: "echo one\nfind | count\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "one\n6\n")
        XCTAssertEqual(r.stderr, "", "no banner or prompt when stdin is not a terminal")
    }

    func testParseErrorOnStandardInputNamesStdin() throws {
        let r = try scimsh(["-"], stdin: "echo ok\nfind |\n")
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.hasPrefix("<stdin>:"), r.stderr)
    }

    func testDashCWithArgumentsAfterDoubleDash() throws {
        let r = try scimsh(["-c", #"echo "$1 and $2""#, "--", "first", "second word"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "first and second word\n")
    }

    func testScriptArguments() throws {
        let (dir, _) = try writeScript("echo \"hello, $1\"\nfind userName eq $2 | select displayName\n")
        let r = try scimsh(["--sandbox", "script.scim", "world", "rkumar"], currentDirectory: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "hello, world\ndisplayName\n-----------\nRahul Kumar\n")
    }

    func testMissingScriptArgumentIsAnError() throws {
        let (dir, _) = try writeScript("echo start\necho $2\n")
        let r = try scimsh(["script.scim", "only-one"], currentDirectory: dir)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("script.scim:2:6: error: no script argument $2"), r.stderr)
    }

    // MARK: - Output formats

    func testOutputFormats() throws {
        let pipeline = #"find userName eq "bjensen" | select id userName active"#
        let expected: [String: String] = [
            "json": """
            [
              {
                "id": "\(Self.bjensenId)",
                "userName": "bjensen",
                "active": true
              }
            ]

            """,
            "jsonl": #"{"id":"\#(Self.bjensenId)","userName":"bjensen","active":true}"# + "\n",
            "csv": "id,userName,active\n\(Self.bjensenId),bjensen,true\n",
            "table": """
            id                                    userName  active
            ------------------------------------  --------  ------
            \(Self.bjensenId)  bjensen   true

            """,
        ]
        for (format, output) in expected {
            let r = try scimsh(["--sandbox", "--output", format, "-c", pipeline])
            XCTAssertEqual(r.status, 0, "\(format): \(r.stderr)")
            XCTAssertEqual(r.stdout, output, format)
            XCTAssertEqual(r.stderr, "", format)
        }
    }

    func testOutputVariableInAScriptOverridesTheDefault() throws {
        let r = try scimsh(["--sandbox", "-c", #"set output = csv; find userName eq "rkumar" | select userName"#])
        XCTAssertEqual(r.stdout, "userName\nrkumar\n")
    }

    // MARK: - Host and token from the environment

    func testHostAndTokenFromTheEnvironment() async throws {
        let server = try await Fixtures.sandbox()
        defer { Task { await server.stop() } }
        let r = try scimsh(
            ["-c", #"find userName eq "bjensen" | select userName"#],
            environment: ["SCIMSH_HOST": E2E.hostURL(server), "SCIMSH_TOKEN": server.sandbox.configuration.adminToken])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "userName\n--------\nbjensen\n")
        let get = server.requestLogWithoutDiscovery().first { $0.method == "GET" }
        XCTAssertEqual(get?.status, 200)
    }

    func testWithoutATokenTheServerAnswers401() async throws {
        let server = try await Fixtures.sandbox()
        defer { Task { await server.stop() } }
        let r = try scimsh(["--host", E2E.hostURL(server), "-c", "find | count"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("401"), r.stderr)
    }

    func testTheTokenIsUsedButNeverPrinted() async throws {
        let secret = "e2e-Secret-Token-5f3a9c"
        let server = try await Fixtures.sandbox { $0.adminToken = secret }
        defer { Task { await server.stop() } }
        let script = """
            vars
            echo $token
            echo "token: $token, ${token}"
            explain find userName eq "bjensen"
            find userName eq $token
            get $token
            get \(Self.missingId)
            find userName eq "bjensen" | select userName
            set token = "wrong-\(secret)"
            find | count
            """
        let r = try scimsh(
            ["--continue-on-error", "--host", E2E.hostURL(server), "-"], stdin: script,
            environment: ["SCIMSH_TOKEN": secret])
        XCTAssertEqual(r.status, 1, "get and the wrong token fail")
        XCTAssertTrue(r.stdout.contains("token = ****\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("token: ****, ****\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("userName\n--------\nbjensen\n"), "the token was sent: \(r.stdout)")
        XCTAssertTrue(r.stderr.contains("404 Not Found"), r.stderr)
        XCTAssertTrue(r.stderr.contains("401"), "the wrong token is rejected: \(r.stderr)")
        XCTAssertFalse(r.stdout.contains(secret), "stdout shows the token:\n\(r.stdout)")
        XCTAssertFalse(r.stderr.contains(secret), "stderr shows the token:\n\(r.stderr)")
    }

    /// A copy of the token in another variable must not leak through `vars` either.
    func testTokenCopiedIntoAnotherVariableIsNotShownByVars() async throws {
        let secret = "e2e-Copied-Token-81b2"
        let r = try scimsh(["-c", "set copy = $token; echo $copy; vars"], environment: ["SCIMSH_TOKEN": secret])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("****\n"), r.stdout)
        XCTAssertFalse(r.stdout.contains(secret), "`vars` shows a copy of the token unmasked:\n\(r.stdout)")
    }

    // MARK: - The sandbox

    func testSandboxFlagWithAScriptOnAFreshMachine() throws {
        // No server, no host, no configuration, an empty home folder: --sandbox brings everything it needs.
        let home = try Fixtures.temporaryDirectory()
        let (dir, _) = try writeScript(
            """
            find | count
            create userName=newbie displayName="New Bie" email=newbie@example.org | select userName active
            find userName eq "newbie" | delete | select userName active
            """)
        let r = try scimsh(
            ["--sandbox", "script.scim"],
            environment: [
                "HOME": home, "XDG_CONFIG_HOME": home + "/.config", "XDG_STATE_HOME": home + "/.state",
                "SCIMSH_JOURNAL": "",
            ],
            currentDirectory: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(
            r.stdout,
            """
            6
            userName  active
            --------  ------
            newbie    true
            userName  active
            --------  ------
            newbie    false

            """)
        XCTAssertEqual(r.stderr, "created 1 user\ndeactivated 1 user\n")
    }

    func testSandboxUsersAddsGeneratedUsers() throws {
        let r = try scimsh(["--sandbox", "--sandbox-users", "250", "--output", "csv", "-c", "find | count"])
        XCTAssertEqual(r.stdout, "count\n256\n")
    }

    func testSandboxSubcommandServesRequestsAndStopsOnSignals() async throws {
        for signal in [SIGINT, SIGTERM] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Fixtures.scimshPath)
            process.arguments = ["sandbox", "--port", "0"]
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

            let banner = try await readUntil(out.fileHandleForReading, contains: "Stop with Ctrl-C.\n")
            let prefix = "scimsh sandbox: serving the ODM SCIM Users API at "
            guard let first = banner.split(separator: "\n").first, first.hasPrefix(prefix) else {
                return XCTFail("unexpected banner:\n\(banner)")
            }
            let baseURL = String(first.dropFirst(prefix.count))
            XCTAssertTrue(baseURL.hasPrefix("http://127.0.0.1:"), baseURL)
            XCTAssertTrue(baseURL.hasSuffix("/api/v1/scim"), baseURL)
            XCTAssertFalse(baseURL.hasPrefix("http://127.0.0.1:0/"), "port 0 means: print the real port")

            // A plain HTTP request, as curl would send it.
            var request = URLRequest(url: try XCTUnwrap(URL(string: baseURL + "/Users?count=2")))
            request.setValue("Bearer " + SandboxConfiguration.defaultAdminToken, forHTTPHeaderField: "Authorization")
            let (body, response) = try await URLSession.shared.data(for: request)
            XCTAssertEqual((response as? HTTPURLResponse)?.statusCode, 200)
            let list = try JSONParser.parse(String(decoding: body, as: UTF8.self))
            XCTAssertEqual(list["totalResults"], .number(6))
            XCTAssertEqual(list["Resources"]?.arrayValue?.count, 2)

            var unauthorized = URLRequest(url: try XCTUnwrap(URL(string: baseURL + "/Users")))
            unauthorized.setValue("Bearer nope", forHTTPHeaderField: "Authorization")
            let (_, denied) = try await URLSession.shared.data(for: unauthorized)
            XCTAssertEqual((denied as? HTTPURLResponse)?.statusCode, 401)

            let sent = ContinuousClock.now
            kill(process.processIdentifier, signal)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
            XCTAssertFalse(process.isRunning, "still running 5 s after signal \(signal)")
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .exit, "signal \(signal)")
            XCTAssertEqual(process.terminationStatus, 0, "signal \(signal)")
            XCTAssertLessThan(ContinuousClock.now - sent, .seconds(2), "stops promptly on signal \(signal)")
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(stderr, "scimsh sandbox: stopping\n")
        }
    }

    func testSandboxSubcommandUsageError() throws {
        let r = try scimsh(["sandbox", "--port", "70000"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(
            r.stderr,
            """
            scimsh: --port must be 0...65535
            Usage: scimsh sandbox <options>
              See 'scimsh sandbox --help' for more information.

            """)
    }

    // MARK: - Version and help

    func testVersion() throws {
        for arguments in [["--version"], ["--sandbox", "--version"], ["--version", "script.scim"]] {
            let r = try scimsh(arguments)
            XCTAssertEqual(r.status, 0, "\(arguments)")
            XCTAssertTrue(r.stdout.hasPrefix("scimsh "), r.stdout)
            XCTAssertEqual(r.stdout.split(separator: "\n").count, 1, r.stdout)
            XCTAssertEqual(r.stderr, "")
        }
    }

    func testHelp() throws {
        for arguments in [["--help"], ["-h"], ["help"], ["--sandbox", "-h"], ["-h", "script.scim"]] {
            let r = try scimsh(arguments)
            XCTAssertEqual(r.status, 0, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stdout.hasPrefix("OVERVIEW: A shell for administering users over SCIM 2.0"), r.stdout)
            XCTAssertTrue(r.stdout.contains("\nUSAGE: scimsh [OPTIONS] [FILE.scim [ARGS...]]\n"), r.stdout)
            for option in ["-c", "--host", "--output", "--sandbox", "--version", "SCIMSH_TOKEN", "sandbox "] {
                XCTAssertTrue(r.stdout.contains(option), "\(arguments) mentions \(option)")
            }
            XCTAssertFalse(r.stdout.contains("\n  run "), "the default subcommand is not listed: \(r.stdout)")
            XCTAssertEqual(r.stderr, "")
        }
        for arguments in [
            ["sandbox", "--help"], ["sandbox", "-h"], ["help", "sandbox"], ["sandbox", "--port", "0", "-h"],
        ] {
            let sandbox = try scimsh(arguments)
            XCTAssertEqual(sandbox.status, 0, "\(arguments): \(sandbox.stderr)")
            XCTAssertTrue(sandbox.stdout.contains("\nUSAGE: scimsh sandbox "), sandbox.stdout)
            XCTAssertTrue(sandbox.stdout.contains("--port"), sandbox.stdout)
            XCTAssertEqual(sandbox.stderr, "")
        }
    }

    func testHelpStatementNeedsNoServer() throws {
        let r = try scimsh(["-c", "help find"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("find [--limit N] [FILTER]\n"), r.stdout)
    }

    // MARK: - Helpers

    /// Reads from `handle` until the text read contains `marker` (or fails after 10 seconds).
    func readUntil(_ handle: FileHandle, contains marker: String) async throws -> String {
        let box = TextBox()
        let thread = Thread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                if box.append(chunk, stopAt: marker) { break }
            }
        }
        thread.start()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let text = box.text
            if text.contains(marker) { return text }
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("timed out waiting for \(marker.debugDescription); got:\n\(box.text)")
        throw CancellationError()
    }
}

/// Text read on another thread.
final class TextBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    /// Appends and tells whether `marker` has been seen.
    func append(_ chunk: Data, stopAt marker: String) -> Bool {
        lock.withLock {
            data.append(chunk)
            return String(decoding: data, as: UTF8.self).contains(marker)
        }
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
