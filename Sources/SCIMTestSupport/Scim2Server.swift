import Foundation
import SCIMClient
import SCIMCore

#if canImport(Glibc)
    import Glibc
#endif

/// python-scim's `scim2-server` (PyPI), an RFC 7644 server nobody here wrote, started for a test on a free loopback
/// port. `make test-deps` installs it into `.venv-scim2/` (scripts/ensure-scim2-server.sh).
///
/// It cannot listen on port 0, so a free port is picked first and the start is retried when another process takes
/// it in between. Its base URL is `http://127.0.0.1:PORT/v2`; every request needs the bearer token.
public final class Scim2Server: @unchecked Sendable {
    /// Where `make test-deps` installs the server.
    public static let executablePath = Fixtures.packageRoot + "/.venv-scim2/bin/scim2-server"
    /// The base path of its SCIM endpoints.
    public static let basePath = "/v2"

    /// Whether the server is installed (false: run `make test-deps`).
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executablePath) }

    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// The bearer token it accepts.
    public let token: String
    let process: ChildProcess
    let directory: String

    /// `http://127.0.0.1:PORT` (scimsh's `host`).
    public var host: String { "http://127.0.0.1:\(port)" }

    init(port: Int, token: String, process: ChildProcess, directory: String) {
        self.port = port
        self.token = token
        self.process = process
        self.directory = directory
    }

    /// What went wrong starting the server.
    public struct StartError: Error, CustomStringConvertible {
        /// What happened, with the end of the server's output.
        public var description: String
    }

    /// Starts a server with an empty store and waits until it answers (at most `timeout` seconds per attempt).
    /// `serviceProviderConfig` (JSON text) replaces what it announces at `/ServiceProviderConfig` (default: every
    /// feature supported); the server then also behaves so (no filter, no PATCH, no ETags when it says so).
    public static func start(
        token: String = "scim2-test-token", timeout: Double = 20, serviceProviderConfig: String? = nil
    ) async throws -> Scim2Server {
        guard isInstalled else {
            throw StartError(description: "scim2-server is not installed at \(executablePath): run `make test-deps`")
        }
        var lastProblem = ""
        for _ in 0..<5 {
            let port = try LoopbackPort.free()
            let directory = try Fixtures.temporaryDirectory()
            var arguments = [
                executablePath, "--hostname", "127.0.0.1", "--port", String(port), "--bearer-token", token,
            ]
            if let serviceProviderConfig {
                let path = directory + "/service-provider-config.json"
                try serviceProviderConfig.write(toFile: path, atomically: true, encoding: .utf8)
                arguments += ["--service-provider-config", path]
            }
            let process = try ChildProcess.start(arguments, in: directory, name: "scim2-server")
            let server = Scim2Server(port: port, token: token, process: process, directory: directory)
            if try await server.waitUntilAnswering(timeout: timeout) { return server }
            lastProblem = server.logTail()
            server.stop()
            // Exited early: most likely another process took the port between LoopbackPort.free() and the bind.
        }
        throw StartError(description: "scim2-server did not start after 5 attempts; its output:\n\(lastProblem)")
    }

    /// Polls the Users endpoint until it answers; false when the process exits or time runs out.
    func waitUntilAnswering(timeout: Double) async throws -> Bool {
        let client = makeClient(retry: RetryPolicy(maxAttempts: 1))
        let deadline = Date().addingTimeInterval(timeout)
        var answered = false
        while !answered, Date() < deadline, process.isRunning {
            answered = (try? await client.findUsers(count: 1)) != nil
            if !answered { try? await Task.sleep(for: .milliseconds(100)) }
        }
        await client.shutdown()
        return answered
    }

    /// A client for this server with its token.
    public func makeClient(
        retry: RetryPolicy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(200))
    ) -> SCIMClient {
        SCIMClient(
            configuration: SCIMConfiguration(
                host: host, basePath: Scim2Server.basePath, auth: .bearer(token), timeout: .seconds(10), retry: retry))
    }

    /// Creates users through the server's own API (POST /Users) and returns them as it answered.
    @discardableResult
    public func seed(_ users: [JSONObject]) async throws -> [JSONObject] {
        let client = makeClient()
        var created: [JSONObject] = []
        do {
            for u in users { created.append(try await client.createUser(SCIMUser(attributes: u)).attributes) }
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        return created
    }

    /// Every user on the server (GET /Users, one page of up to 1000).
    public func users() async throws -> [JSONObject] {
        let client = makeClient()
        do {
            let page = try await client.findUsers(count: 1000)
            await client.shutdown()
            return page.resources.map(\.attributes)
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// The last lines of the server's output, for failure messages.
    public func logTail() -> String {
        (process.stdout() + process.stderr()).split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    /// Stops the server and removes its folder.
    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
