import Foundation
import SCIMCore
import SCIMSandbox

/// Sandboxes and temporary folders a test case makes, stopped and removed in one call from its `tearDown`.
public final class TestResources: Sendable {
    private let state = LockedValue<(servers: [SandboxServer], directories: [String])>(([], []))

    /// Nothing made yet.
    public init() {}

    /// A sandbox on a free loopback port whose admin token is `token` (seed users unless `seedUsers` is false,
    /// plus `generatedUsers`).
    public func sandbox(
        token: String, generatedUsers: Int = 0, seedUsers: Bool = true,
        configure: (inout SandboxConfiguration) -> Void = { _ in }
    ) async throws -> SandboxServer {
        let server = try await Fixtures.sandbox(generatedUsers: generatedUsers) { config in
            config.adminToken = token
            config.seedUsers = seedUsers
            configure(&config)
        }
        state.withLock { $0.servers.append(server) }
        return server
    }

    /// `name` inside a fresh temporary folder (the file itself is not created).
    public func temporaryPath(_ name: String) throws -> String {
        let dir = try Fixtures.temporaryDirectory()
        state.withLock { $0.directories.append(dir) }
        return dir + "/" + name
    }

    /// Stops every sandbox and removes every folder made so far.
    public func cleanUp() async {
        let (servers, directories) = state.withLock { s in
            defer { s = ([], []) }
            return (s.servers, s.directories)
        }
        for s in servers { await s.stop() }
        for d in directories { try? FileManager.default.removeItem(atPath: d) }
    }
}
