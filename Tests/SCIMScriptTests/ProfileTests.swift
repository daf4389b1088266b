import Foundation
import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMScript
import SCIMTestSupport
import XCTest

/// Connection profiles: reading profiles.toml (every key; errors naming file, line and key), fetching the token,
/// and `connect` against the sandbox over loopback with a token from a real command.
final class ProfileTests: InterpreterTestCase {
    /// A temporary XDG_CONFIG_HOME with `text` as scimsh/profiles.toml; returns the environment pointing at it.
    func configHome(_ text: String?) throws -> (environment: [String: String], path: String) {
        let home = try makeTemporaryDirectory()
        let path = home + "/scimsh/profiles.toml"
        try FileManager.default.createDirectory(atPath: home + "/scimsh", withIntermediateDirectories: true)
        if let text { try write(text, to: path) }
        return (["XDG_CONFIG_HOME": home, "HOME": home + "/home"], path)
    }

    /// An executable script printing the sandbox admin token (and a second line that is not the token).
    func tokenScript(_ body: String = "printf '%s\\nlogin: admin\\n' scimsh-sandbox-admin") throws -> String {
        let path = try makeTemporaryDirectory() + "/print-token"
        try write("#!/bin/sh\n" + body + "\n", to: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        return path
    }

    func loadError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ProfileError? {
        do {
            let f = try ProfileFile(parsing: text, path: "/cfg/profiles.toml", home: "/home/me")
            XCTFail("parsed: \(f.profiles)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    // MARK: - Reading the file

    func testEveryKeyIsRead() throws {
        let file = try ProfileFile(
            parsing: """
                # corporate servers
                [prod]
                host = "https://odm.example.com"
                base_path = "/api/v1/scim"
                dialect = "ODM"
                ca_file = "/etc/ssl/corp-ca.pem"
                cert_file = "~/certs/me.crt"
                key_file = "~/certs/me.key"
                proxy = "http://proxy.corp:3128"
                no_proxy = "localhost,.corp"
                insecure = false
                allow_http = true
                page_size = 200
                concurrency = 8
                timeout = 60
                statement_timeout = 600
                token_command = "pass show 'odm/prod'"
                production = true

                [staging]
                host = "https://staging.example.com"
                token_env = "ODM_STAGING_TOKEN"

                ["my laptop"]  # [a comment]
                host = "http://127.0.0.1:8080"
                token_keyring = true
                """, path: "/cfg/profiles.toml", home: "/home/me")
        XCTAssertEqual(file.profiles.map(\.name), ["my laptop", "prod", "staging"])
        let prod = try file.profile(named: "prod")
        var expected = ConnectionProfile(name: "prod", host: "https://odm.example.com")
        expected.basePath = "/api/v1/scim"
        expected.dialect = "odm"
        expected.caFile = "/etc/ssl/corp-ca.pem"
        expected.certFile = "/home/me/certs/me.crt"
        expected.keyFile = "/home/me/certs/me.key"
        expected.proxy = "http://proxy.corp:3128"
        expected.noProxy = "localhost,.corp"
        expected.allowHTTP = true
        expected.pageSize = 200
        expected.concurrency = 8
        expected.timeout = 60
        expected.statementTimeout = 600
        expected.credential = .command(TokenCommand(argv: ["pass", "show", "odm/prod"]))
        expected.production = true
        expected.origin = "/cfg/profiles.toml:2"
        XCTAssertEqual(prod, expected)
        XCTAssertEqual(try file.profile(named: "staging").credential, .environment("ODM_STAGING_TOKEN"))
        XCTAssertEqual(try file.profile(named: "my laptop").credential, .keyring)
        XCTAssertEqual(try file.profile(named: "my laptop").origin, "/cfg/profiles.toml:24")

        let variables = Dictionary(uniqueKeysWithValues: prod.sessionVariables.map { ($0.name, $0.value) })
        XCTAssertEqual(
            variables,
            [
                "host": .string("https://odm.example.com"), "profile": .string("prod"),
                "base_path": .string("/api/v1/scim"), "dialect": .string("odm"),
                "ca_file": .string("/etc/ssl/corp-ca.pem"), "cert_file": .string("/home/me/certs/me.crt"),
                "key_file": .string("/home/me/certs/me.key"), "proxy": .string("http://proxy.corp:3128"),
                "no_proxy": .string("localhost,.corp"), "page_size": .number(200), "concurrency": .number(8),
                "timeout": .number(60), "statement_timeout": .number(600), "allow_http": .string("on"),
                "production": .string("on"),
                "confirm_above": .number(0),
            ])
        XCTAssertEqual(ConnectionProfile.keys.count, 18, "every key is documented")
    }

    func testErrorsNameTheFileTheLineTheKeyAndWhatToDo() {
        let cases: [(String, String, String?)] = [
            (
                "[prod]\nhost = \"https://x\"\nhosts = \"y\"\n",
                "/cfg/profiles.toml:3: profile 'prod': unknown key 'hosts' (did you mean 'host'?)", "hosts"
            ),
            (
                "[prod]\r\nhost = \"https://x\"\r\nhosts = \"y\"\r\n",
                "/cfg/profiles.toml:3: profile 'prod': unknown key 'hosts'", "hosts"
            ),
            (
                "[other]\nhost = \"https://y\"\n[ prod ] # [x]\nhost = \"https://x\"\nflavour = 1\n",
                "/cfg/profiles.toml:5: profile 'prod': unknown key 'flavour'", "flavour"
            ),
            (
                "[prod]\nhost = \"https://x\"\nflavour = 1\n",
                "/cfg/profiles.toml:3: profile 'prod': unknown key 'flavour'; the keys are host, base_path,", "flavour"
            ),
            (
                "[prod]\nhost = \"https://x\"\n  page_size = \"200\"\n",
                "/cfg/profiles.toml:3: profile 'prod': page_size must be a whole number from 1 to 10000 (got string)",
                "page_size"
            ),
            (
                "[prod]\nhost = \"https://x\"\nconcurrency = 1000\n",
                "/cfg/profiles.toml:3: profile 'prod': concurrency must be a whole number from 1 to 256 (got 1000)",
                "concurrency"
            ),
            (
                "[prod]\nhost = \"https://x\"\nproduction = \"yes\"\n",
                "/cfg/profiles.toml:3: profile 'prod': production must be true or false (got string)", "production"
            ),
            (
                "[prod]\nhost = 5\n",
                "/cfg/profiles.toml:2: profile 'prod': host must be a string in quotes (got integer)",
                "host"
            ),
            (
                "[prod]\nhost = \"odm.example.com\"\n",
                "/cfg/profiles.toml:2: profile 'prod': host must start with https:// or http:// (got 'odm.example.com')",
                "host"
            ),
            (
                "[prod]\nca_file = \"/x\"\n",
                "/cfg/profiles.toml:1: profile 'prod' has no host: add host = \"https://odm.example.com\"", "host"
            ),
            (
                "host = \"https://x\"\n",
                "/cfg/profiles.toml:1: 'host' is outside any profile: put it under a [NAME] table header", "host"
            ),
            (
                "[prod]\nhost = \"https://x\"\ntoken_env = \"ODM TOKEN\"\n",
                "/cfg/profiles.toml:3: profile 'prod': token_env must name an environment variable", "token_env"
            ),
            (
                "[prod]\nhost = \"https://x\"\ntoken_command = \"pass show x | head -1\"\n",
                "/cfg/profiles.toml:3: profile 'prod': token command pass show x | head -1: '|' would mean something",
                "token_command"
            ),
            (
                "[prod]\nhost = \"https://x\"\ntoken_env = \"A\"\ntoken_keyring = true\n",
                "profile 'prod': give one of token_env, token_command and token_keyring, not token_env and "
                    + "token_keyring", nil
            ),
            (
                "[prod]\nhost = \"https://x\"\n[prod.tls]\nca = \"x\"\n",
                "profile 'prod': unknown key 'tls'", "tls"
            ),
            ("[prod]\nhost = \n", "/cfg/profiles.toml:2:8: not valid TOML: ", nil),
            ("[prod]\nhost = \"a\"\nhost = \"b\"\n", "/cfg/profiles.toml:3:", nil),
        ]
        for (text, expected, key) in cases {
            guard let error = loadError(text) else { continue }
            XCTAssertTrue(error.message.hasPrefix(expected) || error.message.contains(expected), "\(text)\n\(error)")
            XCTAssertEqual(error.path, "/cfg/profiles.toml", text)
            if let key { XCTAssertEqual(error.key, key, text) }
            XCTAssertTrue(error.isConfigurationError, text)
        }
    }

    func testATokenInTheFileIsRefusedAndNotRepeated() {
        for key in ["token", "api_token", "TOKEN", "password"] {
            let text = "[prod]\nhost = \"https://x\"\n\(key) = \"s3cret-in-file\"\n"
            guard let error = loadError(text) else { continue }
            XCTAssertTrue(
                error.message.hasPrefix(
                    "/cfg/profiles.toml:3: profile 'prod': '\(key)' is refused: scimsh never reads a token from a "
                        + "plain-text file"), error.message)
            XCTAssertTrue(error.message.contains("token_env"), error.message)
            XCTAssertTrue(error.message.contains("token_command"), error.message)
            XCTAssertTrue(error.message.contains("token_keyring"), error.message)
            XCTAssertFalse(error.message.contains("s3cret-in-file"), error.message)
        }
    }

    func testMissingUnreadableFileAndUnknownProfile() throws {
        let (env, path) = try configHome(nil)
        XCTAssertEqual(ProfileFile.standardPath(environment: env), path)
        XCTAssertEqual(
            ProfileFile.standardPath(environment: ["HOME": "/home/me"]), "/home/me/.config/scimsh/profiles.toml")
        XCTAssertNil(ProfileFile.standardPath(environment: [:]))
        XCTAssertThrowsError(try ProfileFile.load(environment: env)) { error in
            let e = error as? ProfileError
            XCTAssertEqual(e?.isMissingFile, true)
            XCTAssertTrue(e?.message.hasPrefix("no profiles file at \(path): create it") ?? false, "\(error)")
        }
        XCTAssertThrowsError(try ProfileFile.load(environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("neither XDG_CONFIG_HOME nor HOME is set"), "\(error)")
        }
        // A folder where the file should be cannot be read (permissions do not stop root, which runs CI).
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        XCTAssertThrowsError(try ProfileFile.load(environment: env)) { error in
            XCTAssertEqual(
                "\(error)", "\(path): cannot read the profiles file: it is a directory (check its permissions)")
        }
        try FileManager.default.removeItem(atPath: path)
        try write("[prod]\nhost = \"https://x\"\n[staging]\nhost = \"https://y\"\n", to: path)
        let file = try ProfileFile.load(environment: env)
        XCTAssertThrowsError(try file.profile(named: "prd")) { error in
            XCTAssertEqual("\(error)", "no profile 'prd' in \(path) (did you mean 'prod'?)")
        }
        XCTAssertThrowsError(try file.profile(named: "qa")) { error in
            XCTAssertEqual("\(error)", "no profile 'qa' in \(path) (it has: prod, staging)")
        }
        try write(String(repeating: "\u{FF}", count: 3), to: path)
        XCTAssertThrowsError(try ProfileFile.load(environment: env))
    }

    func testMalformedFilesNeverCrash() {
        let inputs = [
            "", "[", "]", "[[prod]]\nhost = \"x\"", "[prod]\nhost = [1, 2]", "[prod]\nhost = { a = 1 }",
            "[prod]\npage_size = 1e99", "[prod]\npage_size = -1", "[prod]\npage_size = 99999999999999999999",
            "[prod]\nhost = 1979-05-27T07:32:00Z", "[\"\"]\nhost = \"https://x\"", "[prod]\n\"\" = 1",
            "a.b.c = 1", "[prod]\nhost = \"https://x\"\ntoken_command = \"\"",
            String(repeating: "[a]\n", count: 50),
        ]
        for text in inputs {
            _ = try? ProfileFile(parsing: text, path: "/p", home: nil)
        }
        XCTAssertEqual(try ProfileFile(parsing: "", path: "/p").profiles.count, 0)
    }

    // MARK: - Tokens

    func testTokenFromTheEnvironment() async throws {
        var p = ConnectionProfile(name: "prod", host: "https://x")
        p.credential = .environment("ODM_TOKEN")
        let resolved = try await ResolvedProfile(p, environment: ["ODM_TOKEN": " tok-env \n"])
        XCTAssertEqual(resolved.token, "tok-env")
        XCTAssertNil(resolved.tokenCommand)
        do {
            _ = try await ResolvedProfile(p, environment: [:])
            XCTFail("resolved without the variable")
        } catch {
            XCTAssertTrue(error.message.hasPrefix("profile 'prod': token_env names ODM_TOKEN, which is not set"))
            XCTAssertFalse(error.isConfigurationError)
        }
    }

    func testWithoutACredentialTheUsualEnvironmentVariablesApply() async throws {
        let p = ConnectionProfile(name: "prod", host: "https://x")
        let bearer = try await ResolvedProfile(p, environment: ["SCIMSH_TOKEN": "tok-a", "SCIMSH_API_TOKEN": "tok-b"])
        XCTAssertEqual(bearer.token, "tok-a")
        XCTAssertNil(bearer.apiToken)
        let api = try await ResolvedProfile(p, environment: ["SCIMSH_API_TOKEN": "tok-b"])
        XCTAssertNil(api.token)
        XCTAssertEqual(api.apiToken, "tok-b")
    }

    func testAFailingTokenCommandSaysWhichAndItsStatusButNotItsOutput() async throws {
        var p = ConnectionProfile(name: "prod", host: "https://x")
        p.credential = .command(TokenCommand(argv: [try tokenScript("echo partial-secret-output; exit 7")]))
        do {
            _ = try await ResolvedProfile(p, environment: [:])
            XCTFail("resolved")
        } catch {
            XCTAssertTrue(error.message.hasPrefix("profile 'prod': token command "), error.message)
            XCTAssertTrue(error.message.contains("failed with exit status 7"), error.message)
            XCTAssertFalse(error.message.contains("partial-secret-output"), error.message)
        }
    }

    // MARK: - connect against the sandbox

    func testConnectUsesTheProfileAndATokenFromACommand() async throws {
        let h = try await makeHarness()
        h.interpreter.setVariable("token", .null)
        let script = try tokenScript()
        let (env, _) = try configHome(
            """
            [sb]
            host = "\(h.host)"
            token_command = "'\(script)'"
            page_size = 2
            """)
        let shell = Interpreter(sink: h.sink, environment: env.merging(["SCIMSH_JOURNAL": "off"]) { $1 })
        addTeardownBlock { await shell.shutdown() }
        let result = await shell.run("connect sb\nset trace = on\nfind | count\nvars")
        XCTAssertEqual(result.status, .success, h.messages)
        XCTAssertTrue(h.data.hasPrefix("6\n"), h.data)
        XCTAssertTrue(
            h.messages.hasPrefix("connected to sb (\(h.host)/api/v1/scim); token from \(script)\n"), h.messages)
        XCTAssertTrue(h.data.contains("token = ****\n"), h.data)
        XCTAssertTrue(h.data.contains("token_command = \(script)\n"), h.data)
        XCTAssertTrue(h.data.contains("profile = sb\n"), h.data)
        XCTAssertTrue(h.data.contains("page_size = 2\n"), h.data)
        XCTAssertTrue(h.messages.contains("Authorization: Bearer ****"), "the trace ran: \(h.messages)")
        XCTAssertEqual(h.requests("GET").count, 3, "page_size 2 from the profile: 6 users in 3 pages")
        XCTAssertFalse(h.data.contains("scimsh-sandbox-admin"), h.data)
        XCTAssertFalse(h.messages.contains("scimsh-sandbox-admin"), h.messages)
        XCTAssertEqual(shell.session.string("token"), "scimsh-sandbox-admin")

        // A token set by hand is not refreshed with the profile's command.
        let manual = await shell.run("set token = \"tok-by-hand\"")
        XCTAssertEqual(manual.status, .success)
        XCTAssertNil(shell.session.string("token_command"))
        XCTAssertEqual(shell.session.string("profile"), "sb")
    }

    func testConnectWithTokenEnvAndSwitchingProfilesClearsTheOldSettings() async throws {
        let h = try await makeHarness()
        let (env, _) = try configHome(
            """
            [prod]
            host = "https://odm.invalid"
            ca_file = "/etc/ssl/corp-ca.pem"
            proxy = "http://proxy.corp:3128"
            token_env = "PROD_TOKEN"
            production = true
            insecure = true

            [sb]
            host = "\(h.host)"
            token_env = "SB_TOKEN"
            """)
        let shell = Interpreter(
            sink: h.sink,
            environment: env.merging([
                "SB_TOKEN": "scimsh-sandbox-admin", "PROD_TOKEN": "tok-prod", "SCIMSH_JOURNAL": "off",
            ]) { $1 })
        addTeardownBlock { await shell.shutdown() }
        let run1 = await shell.run("connect prod")
        XCTAssertEqual(run1.status, .success, h.messages)
        var session = shell.session
        XCTAssertEqual(session.string("confirm_above"), "0", "production asks before every change")
        XCTAssertEqual(session.string("production"), "on")
        XCTAssertEqual(session.string("proxy"), "http://proxy.corp:3128")
        XCTAssertEqual(session.string("token"), "tok-prod")
        XCTAssertTrue(h.messages.contains("PRODUCTION: every change asks first"), h.messages)
        XCTAssertTrue(h.messages.hasPrefix("warning: insecure: certificate and host name verification are off"))
        XCTAssertEqual(session.string("insecure"), "on")

        let run2 = await shell.run("connect sb; find | count")
        XCTAssertEqual(run2.status, .success, h.messages)
        session = shell.session
        XCTAssertNil(session.variables["confirm_above"], "leaving production restores the default")
        XCTAssertNil(session.string("production"))
        XCTAssertNil(session.string("proxy"))
        XCTAssertNil(session.string("ca_file"))
        XCTAssertNil(session.string("insecure"))
        XCTAssertNil(session.string("token_command"))
        XCTAssertEqual(session.string("profile"), "sb")
        XCTAssertTrue(h.data.hasSuffix("6\n"), h.data)
    }

    func testConnectListsProfilesWithoutSecrets() async throws {
        let h = try await makeHarness()
        let (env, _) = try configHome(
            """
            [prod]
            host = "https://odm.example.com"
            token_command = "pass show odm/prod"
            production = true

            [staging]
            host = "https://staging.example.com"
            token_env = "STAGING_TOKEN"
            """)
        let shell = Interpreter(sink: h.sink, environment: env)
        addTeardownBlock { await shell.shutdown() }
        let run3 = await shell.run("connect")
        XCTAssertEqual(run3.status, .success, h.messages)
        XCTAssertEqual(
            h.data,
            """
            name     host                         token                       production
            -------  ---------------------------  --------------------------  ----------
            prod     https://odm.example.com      command pass show odm/prod  true
            staging  https://staging.example.com  env STAGING_TOKEN           false

            """)
        XCTAssertEqual(h.messages, "")
    }

    func testConnectErrorsPointAtTheStatementAndKeepTheSession() async throws {
        let h = try await makeHarness()
        let failing = try tokenScript("echo half-a-token; exit 2")
        let (env, path) = try configHome(
            """
            [broken]
            host = "https://odm.example.com"
            token_command = "'\(failing)'"
            """)
        let shell = Interpreter(sink: h.sink, environment: env)
        addTeardownBlock { await shell.shutdown() }
        shell.setVariable("host", .string(h.host))
        shell.setVariable("token", .string("scimsh-sandbox-admin"))

        let run4 = await shell.run("connect broken", name: "s.scim")
        XCTAssertEqual(run4.status, .failed)
        XCTAssertTrue(h.messages.hasPrefix("s.scim:1:1: error: profile 'broken': token command "), h.messages)
        XCTAssertTrue(h.messages.contains("failed with exit status 2"), h.messages)
        XCTAssertFalse(h.messages.contains("half-a-token"), h.messages)
        XCTAssertEqual(shell.session.string("host"), h.host, "a failed connect changes nothing")

        // One bad profile makes the whole file fail, with its line: a mistake is found when it is made.
        try write("[broken]\nhost = \"https://odm.example.com\"\n\n\n\n[typo]\nhosts = \"https://x\"\n", to: path)
        h.sink.reset()
        let run5 = await shell.run("connect typo")
        XCTAssertEqual(run5.status, .failed)
        XCTAssertTrue(
            h.messages.contains("error: \(path):7: profile 'typo': unknown key 'hosts' (did you mean 'host'?)"),
            h.messages)

        h.sink.reset()
        let run6 = await shell.run("connect a b")
        XCTAssertEqual(run6.status, .failed)
        XCTAssertTrue(h.messages.contains("error: connect takes at most 1 argument: connect [PROFILE]"), h.messages)
        h.sink.reset()
        let run7 = await shell.run("find | connect")
        XCTAssertEqual(run7.status, .failed)
        XCTAssertTrue(h.messages.contains("'connect' does not read input"), h.messages)
    }

    func testConnectWithoutAFileSaysWhereToCreateIt() async throws {
        let h = try await makeHarness()
        let (env, path) = try configHome(nil)
        let shell = Interpreter(sink: h.sink, environment: env)
        addTeardownBlock { await shell.shutdown() }
        let run8 = await shell.run("connect")
        XCTAssertEqual(run8.status, .success)
        XCTAssertTrue(
            h.messages.hasPrefix("no connection profiles yet: no profiles file at \(path): create it"), h.messages)
        h.sink.reset()
        let run9 = await shell.run("connect prod")
        XCTAssertEqual(run9.status, .failed)
        XCTAssertTrue(h.messages.contains("error: no profiles file at \(path)"), h.messages)
    }
}
