import Foundation
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// An interpreter pointed at any SCIM server (host and token set), capturing what it prints.
class ScriptHarness: @unchecked Sendable {
    let sink: CapturingSink
    let interpreter: Interpreter
    /// The host variable's value.
    let host: String

    init(host: String, token: String, environment: [String: String], arguments: [String], interactive: Bool) {
        self.host = host
        sink = CapturingSink()
        interpreter = Interpreter(
            sink: sink, environment: environment, arguments: arguments, interactive: interactive)
        interpreter.setVariable("host", .string(host))
        interpreter.setVariable("token", .string(token))
    }

    /// Runs text, returning the result.
    @discardableResult
    func run(_ text: String, name: String = "<input>") async -> RunResult {
        await interpreter.run(text, name: name)
    }

    /// Clears what was captured (and, for a sandbox, its request log).
    func reset() { sink.reset() }

    /// Runs text after clearing the sink and the request log.
    @discardableResult
    func fresh(_ text: String, name: String = "<input>") async -> RunResult {
        reset()
        return await interpreter.run(text, name: name)
    }

    /// Runs text and fails the test unless it succeeds.
    @discardableResult
    func expectSuccess(
        _ text: String, name: String = "<input>", file: StaticString = #filePath, line: UInt = #line
    ) async -> RunResult {
        let r = await interpreter.run(text, name: name)
        XCTAssertEqual(r.exitCode, 0, "\(text)\nstderr:\n\(messages)", file: file, line: line)
        return r
    }

    /// The exit code of running text.
    func exitCode(_ text: String) async -> Int32 { await interpreter.run(text).exitCode }

    var data: String { sink.data }
    var messages: String { sink.messages }
}

/// An interpreter wired to a fresh sandbox over loopback, capturing what it prints.
final class InterpreterHarness: ScriptHarness, @unchecked Sendable {
    let server: SandboxServer

    init(server: SandboxServer, environment: [String: String], arguments: [String], interactive: Bool) {
        self.server = server
        super.init(
            host: "http://127.0.0.1:\(server.port)", token: SandboxConfiguration.defaultAdminToken,
            environment: environment, arguments: arguments, interactive: interactive)
    }

    override func reset() {
        super.reset()
        server.clearLog()
    }

    /// The requests the sandbox answered, without the one to `/ServiceProviderConfig` by which the interpreter
    /// learns that the sandbox, like ODM, offers no discovery (``fullLog`` has it).
    var log: [SandboxRequest] { server.requestLogWithoutDiscovery() }
    /// Every request the sandbox answered.
    var fullLog: [SandboxRequest] { server.requestLog() }
    /// Only the writes.
    var writes: [SandboxRequest] { log.filter(\.isWrite) }
    /// Requests with the given method.
    func requests(_ method: String) -> [SandboxRequest] { log.filter { $0.method == method } }

    /// Every user in the sandbox by userName.
    func user(_ userName: String) -> JSONObject? {
        server.users().first { $0["userName"]?.stringValue == userName }
    }

    /// The active users' names.
    var activeUserNames: [String] {
        server.users().filter { $0["active"] == .bool(true) }.compactMap { $0["userName"]?.stringValue }
    }
}

/// The base of the interpreter test classes: makes harnesses and stops their servers afterwards.
class InterpreterTestCase: XCTestCase {
    private var harnesses: [InterpreterHarness] = []
    private var remotes: [(harness: ScriptHarness, server: Scim2Server)] = []
    private var directories: [String] = []

    /// A sandbox (seed users plus `generatedUsers`) and an interpreter pointed at it.
    func makeHarness(
        generatedUsers: Int = 0, seedUsers: Bool = true, environment: [String: String] = [:],
        arguments: [String] = [], interactive: Bool = false,
        configure: (inout SandboxConfiguration) -> Void = { _ in }
    ) async throws -> InterpreterHarness {
        let server = try await Fixtures.sandbox(generatedUsers: generatedUsers) { config in
            config.seedUsers = seedUsers
            configure(&config)
        }
        // Keep the write journal out of the home folder: one per harness, in a temporary directory.
        var env = environment
        if env["SCIMSH_JOURNAL"] == nil { env["SCIMSH_JOURNAL"] = try makeTemporaryDirectory() + "/journal.jsonl" }
        let h = InterpreterHarness(
            server: server, environment: env, arguments: arguments, interactive: interactive)
        harnesses.append(h)
        return h
    }

    /// A fresh scim2-server (python-scim, an RFC 7644 server nobody here wrote) seeded with `users`, and an
    /// interpreter pointed at it with `set dialect = rfc` and `base_path = /v2`. Fails the test when the server is
    /// not installed (``Scim2Server/start(token:timeout:)`` says so): `make test-deps` installs it, so a missing one
    /// is a broken set-up, not a reason to skip.
    func makeScim2Harness(
        users: [JSONObject] = [], environment: [String: String] = [:], dialect: String? = "rfc",
        serviceProviderConfig: String? = nil
    ) async throws -> (ScriptHarness, Scim2Server) {
        let server = try await Scim2Server.start(serviceProviderConfig: serviceProviderConfig)
        var env = environment
        if env["SCIMSH_JOURNAL"] == nil { env["SCIMSH_JOURNAL"] = try makeTemporaryDirectory() + "/journal.jsonl" }
        let h = ScriptHarness(
            host: server.host, token: server.token, environment: env, arguments: [], interactive: false)
        remotes.append((h, server))
        try await server.seed(users)
        let setup = await h.run(
            "set base_path = \(Scim2Server.basePath)" + (dialect.map { "; set dialect = \($0)" } ?? ""))
        XCTAssertEqual(setup.exitCode, 0, h.messages)
        h.reset()
        return (h, server)
    }

    /// A fresh temporary directory, removed afterwards.
    func makeTemporaryDirectory() throws -> String {
        let dir = try Fixtures.temporaryDirectory()
        directories.append(dir)
        return dir
    }

    override func tearDown() async throws {
        for h in harnesses {
            await h.interpreter.shutdown()
            await h.server.stop()
        }
        harnesses = []
        for r in remotes {
            await r.harness.interpreter.shutdown()
            r.server.stop()
        }
        remotes = []
        for d in directories { try? FileManager.default.removeItem(atPath: d) }
        directories = []
        try await super.tearDown()
    }

    /// Writes a text file.
    func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func read(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }
}

/// The seed users the sandbox starts with (ids fixed).
enum Seed {
    static let bjensen = "2819c223-7f76-453a-919d-413861904646"
    static let alice = "5d8a1c52-3b0e-4c1a-9f6e-2a7b9d4e1f01"
    static let rkumar = "7e2f9a14-6c3d-4b8e-a1f0-3c5d7e9b2a02"
    static let mgarcia = "9b4c6d28-1e5f-4a7b-8c2d-4e6f8a0c3b03"
    static let tnguyen = "a3d5e7f9-2b4c-4d6e-9f1a-5b7c9d1e4c04"
    static let okoval = "c5e7f9a1-3c5d-4e7f-a0b2-6c8d0e2f5d05"
    static let pwhite = "e7f9a1b3-4d6e-4f8a-b1c3-7d9e1f3a6e06"
    static let pipeline = "f9a1b3c5-5e7f-4a9b-82d4-8e0f2a4b7f07"
    /// Active seed users in creation order.
    static let activeNames = ["bjensen", "alice.martin", "rkumar", "mgarcia", "tnguyen", "svc-pipeline"]
}
