import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// Helpers shared by the end-to-end tests: the built binaries, golden files, sandbox state.
enum E2E {
    /// The folder of the built executables (`scimsh`, `embed-example`), as `swift build --build-tests` leaves them.
    static var binDirectory: String { (Fixtures.scimshPath as NSString).deletingLastPathComponent }

    /// The built `embed-example` executable, next to `scimsh`.
    static var embedExamplePath: String { binDirectory + "/embed-example" }

    /// The built `bulk-patch-example` executable, next to `scimsh`.
    static var bulkPatchExamplePath: String { binDirectory + "/bulk-patch-example" }

    /// The package's examples folder.
    static var examplesDirectory: String { Fixtures.packageRoot + "/examples" }

    /// The golden files' folder.
    static var goldenDirectory: String { Fixtures.packageRoot + "/Tests/EndToEndTests/Golden" }

    /// Whether golden files are rewritten from the actual output instead of compared:
    /// `SCIMSH_UPDATE_GOLDEN=1 swift test --skip-build --filter EndToEndTests`.
    static var updateGolden: Bool { ProcessInfo.processInfo.environment["SCIMSH_UPDATE_GOLDEN"] == "1" }

    /// Throws (failing the test) unless the binary exists.
    static func requireBinary(_ path: String) throws {
        struct BinaryMissing: Error, CustomStringConvertible {
            var description: String
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BinaryMissing(description: "\(path) is not built: run `swift build --build-tests` first")
        }
    }

    /// Compares `actual` with the golden file `name` (or writes it when ``updateGolden`` is set).
    static func assertGolden(
        _ actual: String, named name: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let path = goldenDirectory + "/" + name
        if updateGolden {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
            XCTFail(
                "no golden file \(name): create it with SCIMSH_UPDATE_GOLDEN=1 swift test --skip-build "
                    + "--filter EndToEndTests, then review it", file: file, line: line)
            return
        }
        if actual != expected {
            XCTFail(
                "output differs from Golden/\(name) (regenerate with SCIMSH_UPDATE_GOLDEN=1 and review the diff):\n"
                    + firstDifference(expected, actual), file: file, line: line)
        }
    }

    /// The first differing line of two texts, for failure messages.
    static func firstDifference(_ expected: String, _ actual: String) -> String {
        let e = expected.components(separatedBy: "\n")
        let a = actual.components(separatedBy: "\n")
        for i in 0..<max(e.count, a.count) {
            let el = i < e.count ? e[i] : "<end>"
            let al = i < a.count ? a[i] : "<end>"
            if el != al { return "line \(i + 1):\n  expected: \(el)\n  actual:   \(al)\n--- actual output:\n\(actual)" }
        }
        return "(same lines)"
    }

    /// A transcript of a run: the command, the exit status, stdout and stderr, with `replacements` applied
    /// (temporary paths and ports become placeholders).
    static func transcript(
        command: String, _ result: Fixtures.ProcessResult, replacing replacements: [(String, String)]
    ) -> String {
        func clean(_ s: String) -> String {
            var s = s
            for (from, to) in replacements where !from.isEmpty { s = s.replacingOccurrences(of: from, with: to) }
            return s
        }
        return """
            $ \(clean(command))
            exit: \(result.status)
            --- stdout
            \(clean(result.stdout))--- stderr
            \(clean(result.stderr))
            """
    }

    /// The sandbox's users by userName.
    static func usersByName(_ server: SandboxServer) -> [String: JSONObject] {
        var out: [String: JSONObject] = [:]
        for u in server.users() {
            if let name = u["userName"]?.stringValue { out[name] = u }
        }
        return out
    }

    /// The userNames of the inactive users, sorted.
    static func inactiveUserNames(_ server: SandboxServer) -> [String] {
        server.users().filter { $0["active"]?.boolValue == false }.compactMap { $0["userName"]?.stringValue }.sorted()
    }

    /// `--host URL` for a sandbox.
    static func hostURL(_ server: SandboxServer) -> String { "http://\(server.host):\(server.port)" }

    /// The environment that gives a run the sandbox's admin token.
    static func tokenEnvironment(_ server: SandboxServer) -> [String: String] {
        ["SCIMSH_TOKEN": server.sandbox.configuration.adminToken]
    }

    /// The environment every run gets on top of its own: the write journal goes to a fresh temporary file,
    /// never into the journal of the person running the tests.
    static func isolatedEnvironment(_ environment: [String: String]) throws -> [String: String] {
        var env = ["SCIMSH_JOURNAL": try Fixtures.temporaryDirectory() + "/journal.jsonl"]
        for (k, v) in environment { env[k] = v }
        return env
    }

    /// A copy of examples/data in a fresh temporary directory (scripts write backups next to their input).
    static func copyOfExampleData() throws -> String {
        let dir = try Fixtures.temporaryDirectory()
        let data = dir + "/data"
        try FileManager.default.copyItem(atPath: examplesDirectory + "/data", toPath: data)
        return data
    }

    /// A fresh folder to serve as a test's home, removed after the test; fails when scimsh is not built.
    static func freshHome(for test: XCTestCase) throws -> String {
        try requireBinary(Fixtures.scimshPath)
        let home = try Fixtures.temporaryDirectory()
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: home) }
        return home
    }

    /// Starts `scimsh arguments` in a new tmux terminal with `home` as HOME and state and config folder, a journal
    /// of its own, no color and none of the tester's SCIMSH variables; `[scimsh exited N]` shows when it ends.
    static func terminal(
        _ arguments: [String], home: String, environment extra: [String: String] = [:]
    ) throws -> TmuxSession {
        // `trap : INT TERM HUP` keeps the shell alive (libedit passes a SIGTERM on to the process group) while
        // scimsh, which gets the default dispositions back on exec, handles it.
        var command = [
            "/bin/sh", "-c", "trap : INT TERM HUP; \"$@\"; echo \"[scimsh exited $?]\"", "sh", "/usr/bin/env",
        ]
        for name in ["SCIMSH_HOST", "SCIMSH_TOKEN", "SCIMSH_API_TOKEN", "SCIMSH_PROFILE", "EDITRC", "LC_ALL"] {
            command += ["-u", name]
        }
        var environment = [
            "HOME": home, "XDG_STATE_HOME": home + "/state", "XDG_CONFIG_HOME": home + "/config", "TMPDIR": home,
            "LANG": "C.UTF-8", "NO_COLOR": "1", "SCIMSH_JOURNAL": home + "/journal.jsonl",
        ]
        for (key, value) in extra { environment[key] = value }
        command += environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        command += [Fixtures.scimshPath] + arguments
        return try TmuxSession(command: command, width: 120, height: 40)
    }

    /// Waits until the last non-empty line of the screen is `text` (trailing spaces ignored).
    static func waitForLastLine(_ tmux: TmuxSession, _ text: String, timeout: Duration = .seconds(10)) async throws {
        let bare = String(text.reversed().drop(while: { $0 == " " }).reversed())
        try await tmux.waitUntil("the last line is \(bare.debugDescription)", timeout: timeout) { screen in
            let lines = screen.split(separator: "\n").map {
                String($0.reversed().drop(while: { $0 == " " }).reversed())
            }
            return lines.last { !$0.isEmpty } == bare
        }
    }
}
