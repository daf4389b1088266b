import Foundation
import XCTest

@testable import SCIMClient

/// `TokenCommand`: splitting a command line without a shell, and running real programs (small shell scripts in a
/// temporary folder): the token, failures that never show the output, timeouts, cancellation.
final class TokenCommandTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "scimsh-token-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let d = directory
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
    }

    /// Writes an executable `/bin/sh` script and returns its path.
    func script(_ name: String, _ body: String) throws -> String {
        let path = directory + "/" + name
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        return path
    }

    // MARK: - Words

    func testSplittingFollowsSimpleShellQuoting() throws {
        let cases: [(String, [String])] = [
            ("pass show odm/prod", ["pass", "show", "odm/prod"]),
            ("  pass   show\todm/prod  ", ["pass", "show", "odm/prod"]),
            (#"op read "op://Corp/ODM prod/token""#, ["op", "read", "op://Corp/ODM prod/token"]),
            ("get-token 'it''s'", ["get-token", "its"]),
            (#"get-token a\ b"#, ["get-token", "a b"]),
            (#"get-token 'a "b" $c'"#, ["get-token", #"a "b" $c"#]),
            (#"get-token "a \"b\" \$c \\ \n""#, ["get-token", #"a "b" $c \ \n"#]),
            (#"get-token "" x"#, ["get-token", "", "x"]),
            ("get-token a~b", ["get-token", "a~b"]),
            ("get-token '|' \"&;\"", ["get-token", "|", "&;"]),
            ("get-token \\\nnext", ["get-token", "next"]),
        ]
        for (line, words) in cases {
            XCTAssertEqual(try TokenCommand(parsing: line).argv, words, line)
        }
    }

    func testShellSyntaxAndBadQuotingAreErrorsThatSayWhy() {
        let cases: [(String, String)] = [
            ("pass show x | head -1", "'|' would mean something to a shell, but no shell runs the command"),
            ("get-token $HOME", "'$' would mean something to a shell"),
            ("get-token > out", "'>' would mean something to a shell"),
            ("a; b", "';' would mean something to a shell"),
            ("~/bin/get-token", "'~' would mean something to a shell"),
            ("get-token 'open", "a ' quote is not closed"),
            (#"get-token "open"#, #"a " quote is not closed"#),
            (#"get-token \"#, "ends with a backslash"),
            ("", "the token command is empty"),
            ("   ", "the token command is empty"),
            ("''", "the token command is empty"),
        ]
        for (line, expected) in cases {
            do {
                let c = try TokenCommand(parsing: line)
                XCTFail("\(line) parsed as \(c.argv)")
            } catch {
                XCTAssertTrue(error.message.contains(expected), "\(line): \(error.message)")
                XCTAssertTrue(error.isSyntaxError, line)
            }
        }
    }

    func testCommandLineQuotesWordsSoTheyParseBack() throws {
        let words = [
            ["pass", "show", "odm/prod"], ["secret-tool", "lookup", "profile", "my prod"], ["a", "it's", ""],
            ["x", "$HOME", "a|b", "~", "\"q\"", "back\\slash"],
        ]
        for argv in words {
            let line = TokenCommand(argv: argv).commandLine
            XCTAssertEqual(try TokenCommand(parsing: line).argv, argv, line)
        }
        XCTAssertEqual(TokenCommand(argv: ["pass", "show", "odm/prod"]).commandLine, "pass show odm/prod")
        XCTAssertEqual(TokenCommand(argv: ["a", "it's"]).commandLine, #"a 'it'\''s'"#)
        XCTAssertEqual(
            TokenCommand.keyring(profile: "prod").argv,
            ["secret-tool", "lookup", "service", "scimsh", "profile", "prod"])
    }

    // MARK: - Running

    func testTheTokenIsTheFirstLineTrimmed() async throws {
        let path = try script("pass", #"printf '  s3cret-token \r\nlogin: me\nurl: x\n'"#)
        let token = try await TokenCommand(argv: [path]).run()
        XCTAssertEqual(token, "s3cret-token")
    }

    func testArgumentsReachTheProgramAsWords() async throws {
        let path = try script("echo-args", #"printf '%s|' "$@""#)
        let token = try await TokenCommand(parsing: "'\(path)' one 'two words' \"three\"").run()
        XCTAssertEqual(token, "one|two words|three|")
    }

    func testAProgramOnPathIsFound() async throws {
        let token = try await TokenCommand(parsing: "printf tok-from-path").run()
        XCTAssertEqual(token, "tok-from-path")
    }

    func testAFailingProgramGivesItsStatusButNeverItsOutput() async throws {
        let path = try script("fails", "echo leaked-output-123; echo oops >&2; exit 3")
        do {
            let token = try await TokenCommand(argv: [path]).run()
            XCTFail("got \(token)")
        } catch {
            XCTAssertEqual(error.exitStatus, 3)
            XCTAssertTrue(error.message.contains("failed with exit status 3"), error.message)
            XCTAssertTrue(error.message.contains(path), "names the command: \(error.message)")
            XCTAssertFalse(error.message.contains("leaked-output-123"), error.message)
        }
    }

    func testEmptyOutputAndControlCharactersAreRefused() async throws {
        let cases: [(String, String)] = [
            ("true", "printed nothing"),
            (#"printf '\n\n'"#, "printed nothing"),
            (#"printf '\nsecond-line-token\n'"#, "printed an empty first line"),
            (#"printf 'to\033ken\n'"#, "control characters"),
            (#"printf '\377\376\n'"#, "not UTF-8"),
        ]
        for (i, (body, expected)) in cases.enumerated() {
            let path = try script("out\(i)", body)
            do {
                let token = try await TokenCommand(argv: [path]).run()
                XCTFail("\(body) gave \(token)")
            } catch {
                XCTAssertTrue(error.message.contains(expected), "\(body): \(error.message)")
                XCTAssertFalse(error.message.contains("second-line-token"), error.message)
            }
        }
    }

    func testAMissingProgramSaysSo() async throws {
        do {
            _ = try await TokenCommand(argv: ["scimsh-no-such-program-xyz"]).run()
            XCTFail("ran")
        } catch {
            XCTAssertTrue(error.isProgramMissing, error.message)
            XCTAssertTrue(error.message.contains("'scimsh-no-such-program-xyz' was not found"), error.message)
        }
        do {
            _ = try await TokenCommand(argv: [directory + "/missing"]).run()
            XCTFail("ran")
        } catch {
            XCTAssertTrue(error.isProgramMissing, error.message)
        }
    }

    func testASlowProgramIsStoppedAtTheTimeout() async throws {
        let marker = directory + "/still-running"
        let path = try script("slow", "sleep 5; touch '\(marker)'; echo late")
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await TokenCommand(argv: [path], timeout: .milliseconds(300)).run()
            XCTFail("finished")
        } catch {
            XCTAssertTrue(error.message.contains("did not finish within"), error.message)
        }
        XCTAssertLessThan(start.duration(to: clock.now), .seconds(3), "stopped at the timeout, not when it ended")
    }

    func testAProgramThatClosesItsOutputButKeepsRunningTimesOut() async throws {
        let path = try script("daemon", "printf tok; exec >&-; sleep 5")
        do {
            _ = try await TokenCommand(argv: [path], timeout: .milliseconds(300)).run()
            XCTFail("finished")
        } catch {
            XCTAssertTrue(error.message.contains("did not finish within"), error.message)
        }
    }

    func testCancellingTheTaskStopsTheProgram() async throws {
        let path = try script("wait", "sleep 10; echo late")
        let task = Task { try await TokenCommand(argv: [path]).run() }
        try await Task.sleep(for: .milliseconds(200))
        let clock = ContinuousClock()
        let start = clock.now
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("finished")
        } catch let error as TokenCommandError {
            XCTAssertTrue(error.isCancelled, error.message)
        }
        XCTAssertLessThan(start.duration(to: clock.now), .seconds(3))
    }

    func testTooMuchOutputIsRefused() async throws {
        let path = try script("big", "head -c 200000 /dev/zero | tr '\\0' a")
        do {
            _ = try await TokenCommand(argv: [path]).run()
            XCTFail("accepted")
        } catch {
            XCTAssertTrue(error.message.contains("printed more than 64 KiB"), error.message)
        }
    }

    func testTheProgramInheritsNoDescriptorButTheStandardOnes() async throws {
        let path = try script("fds", "ls /proc/self/fd | sort -n | tr '\\n' ' '")
        let token = try await TokenCommand(argv: [path]).run()
        // 0, 1, 2 and the descriptor `ls` opens to read the folder.
        let fds = token.split(separator: " ").compactMap { Int($0) }
        XCTAssertEqual(Array(fds.prefix(3)), [0, 1, 2], token)
        XCTAssertLessThanOrEqual(fds.count, 4, "inherited descriptors: \(token)")
    }

    func testTheCommandRunsAgainEachTime() async throws {
        let counter = directory + "/count"
        let path = try script(
            "counting", "n=$(cat '\(counter)' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '\(counter)'; echo tok-$n")
        let command = TokenCommand(argv: [path])
        let first = try await command.run()
        let second = try await command.run()
        XCTAssertEqual([first, second], ["tok-1", "tok-2"])
    }
}
