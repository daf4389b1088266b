import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// Connection profiles and connection flags as a user meets them: the built `scimsh` with a profiles file in a
/// temporary XDG_CONFIG_HOME, against a sandbox over loopback, with a token from a real command.
final class ProfileCLITests: XCTestCase {
    static let token = "scimsh-sandbox-admin"
    var server: SandboxServer?
    var home = ""

    override func setUp() async throws {
        try E2E.requireBinary(Fixtures.scimshPath)
        home = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: home + "/config/scimsh", withIntermediateDirectories: true)
        server = try await Fixtures.sandbox()
    }

    override func tearDown() async throws {
        await server?.stop()
        try? FileManager.default.removeItem(atPath: home)
    }

    var host: String { server.map(E2E.hostURL) ?? "" }
    var profilesPath: String { home + "/config/scimsh/profiles.toml" }

    /// An executable script that prints the sandbox admin token (what `pass show` would).
    func tokenScript(_ body: String = "printf '%s\\n' \(ProfileCLITests.token)") throws -> String {
        let path = home + "/print-token-\(UUID().uuidString.prefix(8))"
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        return path
    }

    func writeProfiles(_ text: String) throws {
        try text.write(toFile: profilesPath, atomically: true, encoding: .utf8)
    }

    func scimsh(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws
        -> Fixtures.ProcessResult
    {
        var env = ["XDG_CONFIG_HOME": home + "/config", "HOME": home, "SCIMSH_PROFILE": ""]
        for (k, v) in environment { env[k] = v }
        return try Fixtures.runScimsh(
            arguments, stdin: stdin, environment: E2E.isolatedEnvironment(env), timeout: 30)
    }

    func assertNoToken(_ r: Fixtures.ProcessResult, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.stdout.contains(Self.token), "stdout shows the token:\n\(r.stdout)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains(Self.token), "stderr shows the token:\n\(r.stderr)", file: file, line: line)
    }

    // MARK: - Choosing a profile

    func testProfileFlagConnectsWithATokenFromACommand() throws {
        let script = try tokenScript()
        try writeProfiles("[sb]\nhost = \"\(host)\"\ntoken_command = \"\(script)\"\n")
        let r = try scimsh(["--profile", "sb", "--trace", "on", "-c", "find | count; vars"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("6\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("token = ****\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("token_command = \(script)\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("profile = sb\n"), r.stdout)
        XCTAssertTrue(r.stderr.contains("GET \(host)/api/v1/scim/Users"), "the trace ran:\n\(r.stderr)")
        assertNoToken(r)
    }

    func testSCIMSHProfileSelectsAndTheFlagWinsOverIt() throws {
        try writeProfiles(
            """
            [sb]
            host = "\(host)"
            token_env = "SB_TOKEN"

            [dead]
            host = "http://127.0.0.1:1"
            token_env = "SB_TOKEN"
            """)
        let env = ["SCIMSH_PROFILE": "sb", "SB_TOKEN": Self.token]
        let r = try scimsh(["-c", "find | count"], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "6\n")
        assertNoToken(r)
        let dead = try scimsh(["--profile", "dead", "-c", "find | count"], environment: env)
        XCTAssertEqual(dead.status, 1, "--profile wins over SCIMSH_PROFILE: \(dead.stderr)")
        XCTAssertTrue(dead.stderr.contains("http://127.0.0.1:1"), dead.stderr)
    }

    func testFlagsOverrideTheProfile() throws {
        try writeProfiles(
            """
            [p]
            host = "http://127.0.0.1:1"
            base_path = "/wrong"
            ca_file = "/etc/profile-ca.pem"
            proxy = "http://profile-proxy:3128"
            token_env = "SB_TOKEN"
            """)
        let r = try scimsh(
            [
                "--profile", "p", "--host", host, "--base-path", "/api/v1/scim", "--cacert", "/etc/flag-ca.pem",
                "--cert", "/etc/me.crt", "--key", "/etc/me.key", "--allow-http", "-c", "vars",
            ], environment: ["SB_TOKEN": Self.token])
        XCTAssertEqual(r.status, 0, r.stderr)
        for line in [
            "host = \(host)", "base_path = /api/v1/scim", "ca_file = /etc/flag-ca.pem", "cert_file = /etc/me.crt",
            "key_file = /etc/me.key", "allow_http = on", "proxy = http://profile-proxy:3128", "profile = p",
        ] {
            XCTAssertTrue(r.stdout.contains(line + "\n"), "\(line) in:\n\(r.stdout)")
        }
        assertNoToken(r)
    }

    func testConnectionFlagsSetTheirVariablesAndInsecureWarns() throws {
        let r = try scimsh(
            ["--host", "https://odm.example.com", "--proxy", "http://proxy.corp:3128", "--insecure", "-c", "vars"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("proxy = http://proxy.corp:3128\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("insecure = on\n"), r.stdout)
        XCTAssertEqual(
            r.stderr,
            "scimsh: warning: insecure: certificate and host name verification are off, so anyone on the network "
                + "path can read the token and change what the server answers; use ca_file (--cacert) to trust an "
                + "internal CA instead\n")
        let quiet = try scimsh(["--host", "https://odm.example.com", "-c", "vars"])
        XCTAssertEqual(quiet.stderr, "")
        XCTAssertFalse(quiet.stdout.contains("insecure"), quiet.stdout)
    }

    func testConnectInAScriptSwitchesToTheProfile() throws {
        let script = try tokenScript()
        try writeProfiles("[sb]\nhost = \"\(host)\"\ntoken_command = \"\(script)\"\n")
        let r = try scimsh(["--host", "http://127.0.0.1:1", "-c", "connect sb\nfind userName eq \"bjensen\" | count"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "1\n")
        XCTAssertEqual(r.stderr, "connected to sb (\(host)/api/v1/scim); token from \(script)\n")
    }

    func testTokenKeyringAsksSecretToolForTheProfile() throws {
        // A stand-in secret-tool on PATH that answers only the lookup scimsh is documented to make.
        let bin = home + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try """
        #!/bin/sh
        [ "$*" = "lookup service scimsh profile my sb" ] && echo \(Self.token) && exit 0
        echo "secret-tool: unexpected arguments: $*" >&2; exit 1
        """.write(toFile: bin + "/secret-tool", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: bin + "/secret-tool")
        try writeProfiles("[\"my sb\"]\nhost = \"\(host)\"\ntoken_keyring = true\n")
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let r = try scimsh(["--profile", "my sb", "-c", "find | count; vars"], environment: ["PATH": path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("6\n"), r.stdout)
        XCTAssertTrue(
            r.stdout.contains("token_command = secret-tool lookup service scimsh profile 'my sb'\n"), r.stdout)
        assertNoToken(r)
    }

    // MARK: - Failures

    func testAMissingSecretToolSaysWhatToInstall() throws {
        // An empty PATH: no secret-tool, whatever this machine has installed.
        let empty = home + "/empty-bin"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try writeProfiles("[laptop]\nhost = \"\(host)\"\ntoken_keyring = true\n")
        let r = try scimsh(["--profile", "laptop", "-c", "find | count"], environment: ["PATH": empty])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("token_keyring needs secret-tool, which is not installed"), r.stderr)
        XCTAssertTrue(r.stderr.contains("apt-get install libsecret-tools"), r.stderr)
    }

    func testAFailingTokenCommandExitsOneWithItsStatusOnly() throws {
        let script = try tokenScript("echo never-shown-\(Self.token); echo 'gpg: decryption failed' >&2; exit 2")
        try writeProfiles("[sb]\nhost = \"\(host)\"\ntoken_command = \"\(script)\"\n")
        let r = try scimsh(["--profile", "sb", "-c", "find | count"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(
            r.stderr,
            "gpg: decryption failed\nscimsh: profile 'sb': token command \(script) failed with exit status 2 (what "
                + "it printed is not shown; its own messages, if any, are above; run it yourself to see why)\n")
        assertNoToken(r)
        XCTAssertTrue(server?.requestLog().isEmpty ?? false, "nothing was sent")
    }

    func testProfileFileErrorsExitTwoNamingFileLineAndKey() throws {
        try writeProfiles("[sb]\nhost = \"\(host)\"\ntoken = \"\(Self.token)\"\n")
        let r = try scimsh(["--profile", "sb", "-c", "find | count"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(
            r.stderr.hasPrefix(
                "scimsh: \(profilesPath):3: profile 'sb': 'token' is refused: scimsh never reads a token from a "
                    + "plain-text file"), r.stderr)
        assertNoToken(r)

        try writeProfiles("[sb]\nhost = \"\(host)\"\n")
        let missing = try scimsh(["--profile", "sbb", "-c", "echo hi"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr, "scimsh: no profile 'sbb' in \(profilesPath) (did you mean 'sb'?)\n")
        XCTAssertEqual(missing.stdout, "")

        try FileManager.default.removeItem(atPath: profilesPath)
        let noFile = try scimsh(["-c", "echo hi"], environment: ["SCIMSH_PROFILE": "sb"])
        XCTAssertEqual(noFile.status, 2)
        XCTAssertTrue(noFile.stderr.hasPrefix("scimsh: no profiles file at \(profilesPath): create it"), noFile.stderr)
    }

    func testSandboxAndProfileExcludeEachOther() throws {
        let r = try scimsh(["--sandbox", "--profile", "x", "-c", "echo hi"])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(
            r.stderr, "scimsh: --sandbox and --profile exclude each other: the sandbox is a server of its own\n")
        // SCIMSH_PROFILE gives way to an explicit --sandbox.
        let env = try scimsh(["--sandbox", "-c", "echo hi"], environment: ["SCIMSH_PROFILE": "nothing-here"])
        XCTAssertEqual(env.status, 0, env.stderr)
        XCTAssertEqual(env.stdout, "hi\n")
    }

    // MARK: - The option list

    /// Every option `--help` shows is read as an option of scimsh (with its value when it takes one), so the
    /// unknown option after it is a usage error rather than the start of a script's arguments.
    func testEveryOptionIsReadBeforeAnUnknownOption() throws {
        let help = try scimsh(["--help"])
        XCTAssertEqual(help.status, 0)
        var options: [(name: String, valued: Bool)] = []
        for line in help.stdout.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first, first.hasPrefix("-") else { continue }
            for (i, word) in words.enumerated() where word.hasPrefix("-") {
                let name = String(word.trimmingCharacters(in: CharacterSet(charactersIn: ",")))
                let valued = i + 1 < words.count && words[i + 1].hasPrefix("<")
                // ArgumentParser's own flags win over a usage error (as in any ArgumentParser command).
                if !["-h", "--help", "--version"].contains(name) { options.append((name, valued)) }
                if !word.hasSuffix(",") { break }
            }
        }
        let names = options.map(\.name)
        for expected in [
            "--profile", "--cacert", "--cert", "--key", "--insecure", "--proxy", "--allow-http", "--host", "-c",
        ] {
            XCTAssertTrue(names.contains(expected), "\(expected) in --help: \(names)")
        }
        for option in options {
            let r = try scimsh([option.name] + (option.valued ? ["1"] : []) + ["--bogus-option"])
            XCTAssertEqual(r.status, 2, option.name)
            XCTAssertTrue(
                r.stderr.hasPrefix("scimsh: Unknown option '--bogus-option'\n"),
                "\(option.name) (\(option.valued ? "with" : "without") a value):\n\(r.stderr)")
        }
    }
}
