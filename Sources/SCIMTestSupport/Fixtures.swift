import Foundation
import SCIMClient
import SCIMCore
import SCIMSandbox

/// Shared helpers for tests: a sandbox on a free loopback port, a client for it, the built `scimsh` binary.
public enum Fixtures {
    /// The package's root folder (found from this file's path).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Starts a sandbox on port 0 (a free port) with the seed users plus `generatedUsers`.
    public static func sandbox(
        generatedUsers: Int = 0, configure: (inout SandboxConfiguration) -> Void = { _ in }
    ) async throws -> SandboxServer {
        var config = SandboxConfiguration(port: 0, generatedUsers: generatedUsers)
        configure(&config)
        return try await SandboxServer.start(config)
    }

    /// A client for a sandbox with its admin token (or the given auth); fast retries for tests.
    public static func client(
        for server: SandboxServer, auth: SCIMAuth? = nil,
        retry: RetryPolicy = RetryPolicy(
            maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(200)),
        timeout: Duration = .seconds(10)
    ) -> SCIMClient {
        SCIMClient(
            configuration: SCIMConfiguration(
                host: server.origin, basePath: server.sandbox.configuration.basePath,
                auth: auth ?? .bearer(server.sandbox.configuration.adminToken), timeout: timeout, retry: retry))
    }

    /// The built `scimsh` executable (`swift build` puts it in .build/debug).
    public static var scimshPath: String {
        let candidates = [
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("scimsh").path,
            Bundle.main.bundleURL.appendingPathComponent("scimsh").path,
            packageRoot + "/.build/debug/scimsh",
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[2]
    }

    /// What a run of a program produced.
    public struct ProcessResult: Sendable {
        /// The exit status (or 128+signal).
        public var status: Int32
        /// Everything written to stdout.
        public var stdout: String
        /// Everything written to stderr.
        public var stderr: String
    }

    /// Runs `scimsh` with arguments, optional stdin text and extra environment variables; waits at most
    /// `timeout` seconds (then kills it and reports status 137).
    public static func runScimsh(
        _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
        currentDirectory: String? = nil, timeout: Double = 60
    ) throws -> ProcessResult {
        try run(
            scimshPath, arguments, stdin: stdin, environment: environment, currentDirectory: currentDirectory,
            timeout: timeout)
    }

    /// Runs a program; see ``runScimsh(_:stdin:environment:currentDirectory:timeout:)``.
    public static func run(
        _ path: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
        currentDirectory: String? = nil, timeout: Double = 60
    ) throws -> ProcessResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for k in ["SCIMSH_TOKEN", "SCIMSH_API_TOKEN", "SCIMSH_HOST"] { env[k] = nil }
        // Never write into the tester's own journal.
        env["SCIMSH_JOURNAL"] = NSTemporaryDirectory() + "scimsh-test-journal-" + UUID().uuidString + ".jsonl"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        if let currentDirectory { p.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        // Read both pipes concurrently so a full pipe never blocks the child.
        let outData = LockedData()
        let errData = LockedData()
        let group = DispatchGroup()
        for (pipe, data) in [(out, outData), (err, errData)] {
            group.enter()
            DispatchQueue.global().async {
                data.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning, Date() < deadline { usleep(5000) }
        var killed = false
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            killed = true
        }
        p.waitUntilExit()
        group.wait()
        return ProcessResult(
            status: killed ? 137 : p.terminationStatus, stdout: String(decoding: outData.get(), as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    /// A fresh empty temporary directory.
    public static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "scimsh-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.withLock { data = d } }
    func get() -> Data { lock.withLock { data } }
}
