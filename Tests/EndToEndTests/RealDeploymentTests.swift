import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// The built `scimsh` as an admin behind a corporate network meets it: the sandbox over HTTPS with a throwaway
/// CA, a real proxy (tinyproxy), a token from a command that expires in the middle of a bulk job, and plain
/// http to another machine refused.
final class RealDeploymentTests: XCTestCase {
    var home = ""

    override func setUp() async throws {
        try E2E.requireBinary(Fixtures.scimshPath)
        home = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: home + "/config/scimsh", withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        try? FileManager.default.removeItem(atPath: home)
    }

    func scimsh(_ arguments: [String], environment: [String: String] = [:]) throws -> Fixtures.ProcessResult {
        var env = ["XDG_CONFIG_HOME": home + "/config", "HOME": home, "SCIMSH_PROFILE": ""]
        for (k, v) in environment { env[k] = v }
        return try Fixtures.runScimsh(arguments, environment: E2E.isolatedEnvironment(env), timeout: 120)
    }

    func testATokenThatExpiresMidJobIsRefreshedAndEveryUserIsPatched() async throws {
        let server = try await Fixtures.sandbox(generatedUsers: 2000) { config in
            config.seedUsers = false
            config.tokenLifetime = 1500
        }
        defer { Task { await server.stop() } }
        let script = try CountingTokenScript(in: home)
        try "[sb]\nhost = \"\(server.origin)\"\ntoken_command = \"\(script.path)\"\n".write(
            toFile: home + "/config/scimsh/profiles.toml", atomically: true, encoding: .utf8)
        let journal = home + "/journal.jsonl"

        let r = try scimsh(
            ["--profile", "sb", "-c", #"find | patch displayName="Refreshed" | count"#],
            environment: ["SCIMSH_JOURNAL": journal])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("2000"), r.stdout)
        XCTAssertTrue(r.stderr.contains("patched 2000 users"), r.stderr)
        XCTAssertEqual(script.runs, 2, "once to connect, once when the first token expired")
        let users = E2E.usersByName(server)
        XCTAssertEqual(users.count, 2000)
        XCTAssertEqual(users.values.filter { $0["displayName"]?.stringValue == "Refreshed" }.count, 2000)
        // The journal says which write met the expiry; no token is written anywhere.
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
        let noted = lines.filter { $0.contains("token_command gave a fresh one") }
        XCTAssertGreaterThanOrEqual(noted.count, 1)
        XCTAssertLessThanOrEqual(noted.count, 32, "only the writes in flight at the expiry")
        // `journal N` shows the note beside the write.
        let shown = try scimsh(["--output", "jsonl", "-c", "journal 1"], environment: ["SCIMSH_JOURNAL": journal])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertEqual(
            shown.stdout.split(separator: "\n").filter { $0.contains("token_command gave a fresh one") }.count,
            noted.count, shown.stdout)
        for text in [r.stdout, r.stderr, lines.joined(), shown.stdout] {
            XCTAssertFalse(text.contains("scimsh-sandbox-admin"), "a token leaked")
        }
    }

    func testHTTPSThroughAProxyFromTheEnvironmentWithACAFile() async throws {
        let pki = try TestPKI.create()
        defer { pki.remove() }
        let proxy = try await Tinyproxy.start()
        defer { proxy.stop() }
        let server = try await Fixtures.sandbox { $0.tls = pki.sandboxTLS() }
        defer { Task { await server.stop() } }

        let r = try scimsh(
            ["--cacert", pki.caCertificate, "--host", server.origin, "--trace", "on", "-c", "find | count"],
            environment: ["HTTPS_PROXY": proxy.url, "SCIMSH_TOKEN": SandboxConfiguration.defaultAdminToken])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("6"), r.stdout)
        XCTAssertTrue(r.stderr.contains("* via proxy \(proxy.url)"), r.stderr)
        XCTAssertEqual(proxy.requestLines(), ["CONNECT 127.0.0.1:\(server.port) HTTP/1.1"], proxy.log())

        // Without the CA file: refused before anything is sent, with what to do.
        let refused = try scimsh(
            ["--host", server.origin, "-c", "find | count"],
            environment: ["SCIMSH_TOKEN": SandboxConfiguration.defaultAdminToken])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("certificate is not trusted"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("--cacert"), refused.stderr)
    }

    func testInsecureSkipsTheChecksAndWarnsOnce() async throws {
        let pki = try TestPKI.create()
        defer { pki.remove() }
        let server = try await Fixtures.sandbox { $0.tls = pki.sandboxTLS() }
        defer { Task { await server.stop() } }
        let r = try scimsh(
            ["--insecure", "--host", server.origin, "-c", "find | count; get 2819c223-7f76-453a-919d-413861904646"],
            environment: ["SCIMSH_TOKEN": SandboxConfiguration.defaultAdminToken])
        XCTAssertEqual(r.status, 0, r.stderr)
        let warnings = r.stderr.components(separatedBy: "verification are off").count - 1
        XCTAssertEqual(warnings, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("read the token"), r.stderr)
    }

    func testATokenIsNotSentOverPlainHTTPToAnotherMachine() throws {
        // `.invalid` never resolves: if the refusal failed, the run would end in a DNS error, sending nothing.
        let env = ["SCIMSH_TOKEN": "tok-never-sent-123"]
        let r = try scimsh(["--host", "http://odm.invalid:8080", "-c", "find | count"], environment: env)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("refusing to send the token over plain http:// to odm.invalid"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--allow-http"), r.stderr)
        XCTAssertFalse(r.stderr.contains("tok-never-sent-123"))

        let allowed = try scimsh(
            ["--allow-http", "--host", "http://odm.invalid:8080", "-c", "find | count"], environment: env)
        XCTAssertEqual(allowed.status, 1)
        XCTAssertFalse(allowed.stderr.contains("refusing"), allowed.stderr)
        XCTAssertTrue(allowed.stderr.contains("cannot resolve the host name"), allowed.stderr)
    }
}
