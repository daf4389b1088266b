import Foundation
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// Every registered command documents itself and its examples run: a broken example fails the suite.
final class InterpreterExampleTests: InterpreterTestCase {
    /// Every command has a summary, help text, a signature and at least one example.
    func testEveryCommandIsDocumented() async {
        // (An interpreter must be shut down before it goes away: its HTTP client traps otherwise.)
        let interpreter = Interpreter(sink: CapturingSink(), environment: [:])
        let commands = interpreter.commands
        XCTAssertGreaterThanOrEqual(commands.count, 18, "the built-in commands: \(commands.map(\.name))")
        for command in commands {
            XCTAssertFalse(command.name.isEmpty)
            XCTAssertFalse(
                command.summary.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(command.name): summary")
            XCTAssertFalse(
                command.help.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(command.name): help")
            XCTAssertTrue(
                command.usage.hasPrefix(command.name) || command.usage.hasPrefix("… | \(command.name)"), command.usage)
            XCTAssertFalse(command.examples.isEmpty, "\(command.name): no example")
            for example in command.examples {
                XCTAssertFalse(example.summary.isEmpty, "\(command.name): example \(example.source) has no summary")
                XCTAssertFalse(example.source.isEmpty, "\(command.name): empty example")
            }
            XCTAssertFalse(command.summary.contains("\n"), "\(command.name): the summary is one line")
        }
        let names = Set(commands.map(\.name))
        for expected in [
            "find", "get", "create", "patch", "delete", "where", "select", "sort", "first", "count", "expect",
            "import", "save", "table", "json", "jsonl", "csv", "show",
        ] {
            XCTAssertTrue(names.contains(expected), "\(expected) is registered")
        }
        XCTAssertEqual(interpreter.command(named: "deactivate")?.name, "delete", "deactivate is an alias of delete")
        await interpreter.shutdown()
    }

    /// Every example of every registered command runs against a fresh sandbox: exit 0 and no error message.
    func testEveryExampleRunsAgainstTheSandbox() async throws {
        // Examples name files relative to the package root (examples/data/new-hires.csv).
        let previous = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(Fixtures.packageRoot))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        let lister = Interpreter(sink: CapturingSink(), environment: [:])
        let commands = lister.commands
        await lister.shutdown()
        var ran = 0
        for command in commands {
            for example in command.examples {
                let h = try await makeHarness()
                let result = await h.run(example.source, name: "\(command.name)-example")
                XCTAssertEqual(
                    result.exitCode, 0,
                    "example of \(command.name) failed: \(example.source)\nstdout:\n\(h.data)\nstderr:\n\(h.messages)")
                XCTAssertEqual(result.status, .success, example.source)
                XCTAssertFalse(
                    h.messages.lowercased().contains("error"),
                    "example of \(command.name): \(example.source)\nstderr:\n\(h.messages)")
                XCTAssertFalse(h.messages.contains("warning"), "\(example.source)\nstderr:\n\(h.messages)")
                XCTAssertFalse(
                    h.data.contains(SandboxConfiguration.defaultAdminToken)
                        || h.messages.contains(SandboxConfiguration.defaultAdminToken),
                    "the token never appears in output (\(example.source))")
                ran += 1
            }
        }
        XCTAssertGreaterThanOrEqual(ran, commands.count)
        try? FileManager.default.removeItem(atPath: "/tmp/scimsh-example.jsonl")
    }

    /// Every example also parses on its own (no example depends on a line continuation or a prior statement).
    func testEveryExampleParses() async {
        let interpreter = Interpreter(sink: CapturingSink(), environment: [:])
        for command in interpreter.commands {
            for example in command.examples {
                XCTAssertNoThrow(try interpreter.parser.parse(example.source), example.source)
                XCTAssertFalse(interpreter.needsMoreInput(example.source), example.source)
            }
        }
        await interpreter.shutdown()
    }

    /// `help COMMAND` works for every command and alias and shows its signature and examples.
    func testHelpForEveryCommand() async throws {
        let sink = CapturingSink()
        let interpreter = Interpreter(sink: sink, environment: [:])
        for command in interpreter.commands {
            for name in [command.name] + command.aliases {
                sink.reset()
                let result = await interpreter.run("help \(name)")
                XCTAssertEqual(result.exitCode, 0, name)
                XCTAssertEqual(sink.messages, "", name)
                XCTAssertTrue(sink.data.hasPrefix(command.usage + "\n\n" + command.summary + "\n\n"), name)
                for example in command.examples {
                    XCTAssertTrue(sink.data.contains("  " + example.source + "\n      " + example.summary + "\n"), name)
                }
            }
        }
        await interpreter.shutdown()
    }
}
