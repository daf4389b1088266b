import Foundation
import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// Runs every script in examples/ with the built `scimsh`, twice: with `--sandbox` (the embedded server, as a
/// reader of the examples would) and with `--host` and `SCIMSH_TOKEN` against a sandbox started here, whose
/// resulting state is then checked. Both runs must print exactly the golden transcript
/// `Golden/examples/CASE.txt` (regenerate: `SCIMSH_UPDATE_GOLDEN=1 swift test --skip-build --filter
/// EndToEndTests`, then review the diff).
///
/// Every examples/*.scim must have at least one case below: a new script without one fails
/// ``testEveryExampleScriptHasACase``.
final class ExamplesTests: XCTestCase {
    /// One run of an example script.
    struct Case: Sendable {
        /// The golden file's name (without `.txt`).
        var name: String
        /// The script's file name in examples/.
        var script: String
        /// Its arguments; `$DATA` stands for a fresh copy of examples/data.
        var arguments: [String]
        /// Generated users on top of the seed users.
        var generatedUsers = 0
        /// The expected exit status.
        var status: Int32 = 0
        /// Writes extra input files into the data folder before the run.
        var prepare: @Sendable (_ data: String) throws -> Void = { _ in }
        /// Checks files the script wrote (both runs).
        var checkFiles: @Sendable (_ data: String) throws -> Void = { _ in }
        /// Checks the sandbox afterwards (the `--host` run).
        var checkState: @Sendable (_ server: SandboxServer) throws -> Void
    }

    static let bjensenId = "2819c223-7f76-453a-919d-413861904646"
    static let rkumarId = "7e2f9a14-6c3d-4b8e-a1f0-3c5d7e9b2a02"
    static let mgarciaId = "9b4c6d28-1e5f-4a7b-8c2d-4e6f8a0c3b03"
    static let okovalId = "c5e7f9a1-3c5d-4e7f-a0b2-6c8d0e2f5d05"
    /// Inactive in the seed data.
    static let seedInactive = ["okoval", "pwhite"]

    static let cases: [Case] = [
        Case(
            name: "offboard", script: "offboard.scim", arguments: ["$DATA/leavers.csv"],
            checkFiles: { data in
                let backup = try jsonLines(data + "/leavers.csv.backup.jsonl")
                XCTAssertEqual(backup.map { $0["userName"]?.stringValue }, ["rkumar", "mgarcia"])
                XCTAssertEqual(backup.map { $0["active"] }, [.bool(true), .bool(true)], "saved before deactivating")
                XCTAssertEqual(backup.first?["emails"]?.arrayValue?.first?["value"], "rahul.kumar@example.org")
            },
            checkState: { server in
                XCTAssertEqual(E2E.inactiveUserNames(server), (seedInactive + ["mgarcia", "rkumar"]).sorted())
            }),
        // One row names a user who is already deactivated: reported, the other row still goes through, exit 1.
        Case(
            name: "offboard-partial", script: "offboard.scim", arguments: ["$DATA/partial.csv"], status: 1,
            prepare: { data in
                try "id,userName\n\(bjensenId),bjensen\n\(okovalId),okoval\n".write(
                    toFile: data + "/partial.csv", atomically: true, encoding: .utf8)
            },
            checkFiles: { data in
                let backup = try jsonLines(data + "/partial.csv.backup.jsonl")
                XCTAssertEqual(backup.map { $0["userName"]?.stringValue }, ["bjensen"])
            },
            checkState: { server in
                XCTAssertEqual(E2E.inactiveUserNames(server), (seedInactive + ["bjensen"]).sorted())
            }),
        // More rows than the script's guard allows: nothing is fetched, saved or deactivated.
        Case(
            name: "offboard-too-many", script: "offboard.scim", arguments: ["$DATA/everyone.csv"],
            generatedUsers: 51, status: 1,
            prepare: { data in
                var csv = "id,userName\n"
                for i in 1...51 { csv += String(format: "00000000-0000-4000-8000-%012d,user%05d\n", i, i) }
                try csv.write(toFile: data + "/everyone.csv", atomically: true, encoding: .utf8)
            },
            checkFiles: { data in
                XCTAssertFalse(FileManager.default.fileExists(atPath: data + "/everyone.csv.backup.jsonl"))
            },
            checkState: { server in
                XCTAssertEqual(E2E.inactiveUserNames(server), seedInactive)
                XCTAssertFalse(server.requestLog().contains { $0.isWrite }, "no request may write")
            }),
        Case(
            name: "onboard", script: "onboard.scim", arguments: ["$DATA/new-hires.csv"],
            checkState: { server in
                let users = E2E.usersByName(server)
                XCTAssertEqual(users.count, 11)
                for (name, display, email, externalId) in [
                    ("jdoe", "Jane Doe", "jane.doe@example.org", "EMP-2001"),
                    ("lchen", "Li Chen", "li.chen@example.org", "EMP-2002"),
                    ("ofarrell", "Aoife O'Farrell", "aoife.ofarrell@example.org", "EMP-2003"),
                ] {
                    let u = users[name]
                    XCTAssertEqual(u?["displayName"]?.stringValue, display, name)
                    XCTAssertEqual(u?["active"], .bool(true), name)
                    XCTAssertEqual(u?["externalId"]?.stringValue, externalId, name)
                    XCTAssertEqual(u?["emails"]?.arrayValue?.first?["value"]?.stringValue, email, name)
                }
            }),
        Case(
            name: "audit-no-email", script: "audit-no-email.scim", arguments: ["@example.org"], generatedUsers: 2,
            checkState: { server in
                XCTAssertEqual(E2E.inactiveUserNames(server), seedInactive)
                XCTAssertFalse(server.requestLog().contains { $0.isWrite }, "an audit only reads")
            }),
        // Addresses compare case-insensitively; without generated users only bjensen (example.com) is reported.
        Case(
            name: "audit-no-email-domain-case", script: "audit-no-email.scim", arguments: ["@EXAMPLE.ORG"],
            checkState: { server in
                XCTAssertFalse(server.requestLog().contains { $0.isWrite }, "an audit only reads")
            }),
        Case(
            name: "rename", script: "rename.scim", arguments: ["$DATA/renames.csv"],
            checkState: { server in
                let users = E2E.usersByName(server)
                XCTAssertEqual(users["bjensen"]?["displayName"]?.stringValue, "Barbara J. Jensen")
                XCTAssertEqual(users["tnguyen"]?["displayName"]?.stringValue, "Thanh Nguyen-Tran")
                XCTAssertEqual(users["bjensen"]?["active"], .bool(true))
                XCTAssertEqual(users["rkumar"]?["displayName"]?.stringValue, "Rahul Kumar")
            }),
        // A row whose id has no user is reported; the other row is still renamed; exit 1.
        Case(
            name: "rename-unknown", script: "rename.scim", arguments: ["$DATA/partial-renames.csv"], status: 1,
            prepare: { data in
                try "id,displayName\nno-such-id,Nobody\n\(bjensenId),Barbara J. Jensen\n".write(
                    toFile: data + "/partial-renames.csv", atomically: true, encoding: .utf8)
            },
            checkState: { server in
                XCTAssertEqual(E2E.usersByName(server)["bjensen"]?["displayName"]?.stringValue, "Barbara J. Jensen")
            }),
        // Offboarding from groups: rkumar leaves Engineering and Data Stewards, then is deactivated.
        Case(
            name: "offboard-groups", script: "offboard-groups.scim", arguments: ["rkumar"],
            checkState: { server in
                XCTAssertEqual(E2E.inactiveUserNames(server), (seedInactive + ["rkumar"]).sorted())
                XCTAssertEqual(groupMembers(server)["Engineering"], ["svc-pipeline", "tnguyen"])
                XCTAssertEqual(groupMembers(server)["Data Stewards"], ["bjensen", "mgarcia", "okoval"])
                XCTAssertEqual(groupMembers(server)["Curators"], ["alice.martin", "mgarcia"])
            }),
        // No active user of that name: `expect == 1` stops before any write.
        Case(
            name: "offboard-groups-unknown", script: "offboard-groups.scim", arguments: ["nobody"], status: 1,
            checkState: { server in
                XCTAssertFalse(server.requestLog().contains { $0.isWrite }, "nothing may be written")
                XCTAssertEqual(groupMembers(server)["Engineering"], ["rkumar", "svc-pipeline", "tnguyen"])
            }),
        // The plan (a dry run: GETs only), then the changes: Engineering gains bjensen and loses svc-pipeline,
        // Curators gains rkumar; Data Stewards, not in the CSV, stays as it was.
        Case(
            name: "mirror-groups", script: "mirror-groups.scim", arguments: ["$DATA/memberships.csv"],
            checkState: { server in
                let groups = groupMembers(server)
                XCTAssertEqual(groups["Engineering"], ["bjensen", "rkumar", "tnguyen"])
                XCTAssertEqual(groups["Curators"], ["alice.martin", "mgarcia", "rkumar"])
                XCTAssertEqual(groups["Data Stewards"], ["bjensen", "mgarcia", "okoval", "rkumar"])
                XCTAssertEqual(server.requestLog().filter(\.isWrite).count, 3, "one PATCH per change, once")
            }),
    ]

    /// Each group's members by userName (sorted), by group name.
    static func groupMembers(_ server: SandboxServer) -> [String: [String]] {
        let names = Dictionary(
            server.users().compactMap { u in u["id"]?.stringValue.map { ($0, u["userName"]?.stringValue ?? $0) } },
            uniquingKeysWith: { a, _ in a })
        var out: [String: [String]] = [:]
        for g in server.sandbox.groups() {
            guard let name = g["displayName"]?.stringValue else { continue }
            let ids = (g["members"]?.arrayValue ?? []).compactMap { $0["value"]?.stringValue }
            out[name] = ids.map { names[$0] ?? $0 }.sorted()
        }
        return out
    }

    /// The example scripts on disk.
    static func exampleScripts() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: E2E.examplesDirectory)
            .filter { $0.hasSuffix(".scim") }.sorted()
    }

    func testEveryExampleScriptHasACase() throws {
        let scripts = try Self.exampleScripts()
        XCTAssertFalse(scripts.isEmpty, "no examples/*.scim found in \(E2E.examplesDirectory)")
        let covered = Set(Self.cases.map(\.script))
        for script in scripts where !covered.contains(script) {
            XCTFail("examples/\(script) has no test case: add one to ExamplesTests.cases")
        }
        for script in covered where !scripts.contains(script) {
            XCTFail("ExamplesTests.cases names examples/\(script), which does not exist")
        }
        XCTAssertEqual(Set(Self.cases.map(\.name)).count, Self.cases.count, "case names must be unique")
    }

    func testEveryExampleHasAHeaderComment() throws {
        for script in try Self.exampleScripts() {
            let text = try String(contentsOfFile: E2E.examplesDirectory + "/" + script, encoding: .utf8)
            XCTAssertTrue(text.hasPrefix("# \(script) — "), "\(script) starts with '# \(script) — what it does'")
            XCTAssertTrue(text.contains("scimsh --sandbox examples/\(script)"), "\(script) says how to try it")
            XCTAssertTrue(text.contains("SCIMSH_HOST="), "\(script) says how to run it against a real ODM")
            XCTAssertTrue(text.contains("SCIMSH_TOKEN="), "\(script) says where the token comes from")
        }
    }

    /// The data files the scripts' headers and the commands' help refer to exist.
    func testExampleDataFilesExist() {
        for name in ["new-hires.csv", "leavers.csv", "renames.csv", "logins.csv", "memberships.csv"] {
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: E2E.examplesDirectory + "/data/" + name), "examples/data/\(name)"
            )
        }
    }

    func testExamplesWithSandboxFlag() throws {
        try E2E.requireBinary(Fixtures.scimshPath)
        for c in Self.cases {
            let data = try E2E.copyOfExampleData()
            try c.prepare(data)
            var flags = ["--sandbox"]
            if c.generatedUsers > 0 { flags += ["--sandbox-users", String(c.generatedUsers)] }
            let result = try run(c, flags: flags, data: data, environment: [:])
            try E2E.assertGolden(transcript(c, result, data: data), named: "examples/\(c.name).txt")
            XCTAssertEqual(result.status, c.status, "\(c.name): exit status")
            try c.checkFiles(data)
        }
    }

    func testExamplesAgainstAServerWithTokenFromEnvironment() async throws {
        try E2E.requireBinary(Fixtures.scimshPath)
        for c in Self.cases {
            let server = try await Fixtures.sandbox(generatedUsers: c.generatedUsers)
            do {
                let data = try E2E.copyOfExampleData()
                try c.prepare(data)
                server.clearLog()
                let result = try run(
                    c, flags: ["--host", E2E.hostURL(server)], data: data,
                    environment: E2E.tokenEnvironment(server))
                try E2E.assertGolden(
                    transcript(c, result, data: data), named: "examples/\(c.name).txt")
                XCTAssertEqual(result.status, c.status, "\(c.name): exit status")
                try c.checkFiles(data)
                try c.checkState(server)
                let token = server.sandbox.configuration.adminToken
                XCTAssertFalse((result.stdout + result.stderr).contains(token), "\(c.name) printed the token")
            } catch {
                await server.stop()
                throw error
            }
            await server.stop()
        }
    }

    // MARK: - Helpers

    func run(_ c: Case, flags: [String], data: String, environment: [String: String]) throws
        -> Fixtures.ProcessResult
    {
        let arguments = c.arguments.map { $0.replacingOccurrences(of: "$DATA", with: data) }
        return try Fixtures.runScimsh(
            flags + [E2E.examplesDirectory + "/" + c.script] + arguments,
            environment: E2E.isolatedEnvironment(environment),
            currentDirectory: (data as NSString).deletingLastPathComponent, timeout: 60)
    }

    /// The transcript with machine-specific parts replaced: the command as a reader would type it.
    func transcript(_ c: Case, _ result: Fixtures.ProcessResult, data: String) -> String {
        let command = (["scimsh", "examples/" + c.script] + c.arguments.map(Self.shellQuoted)).joined(separator: " ")
        return E2E.transcript(
            command: command, result, replacing: [(data, "$DATA"), (E2E.examplesDirectory, "examples")])
    }

    static func shellQuoted(_ s: String) -> String {
        s.contains(" ") || s.contains("'") ? "'" + s.replacingOccurrences(of: "'", with: #"'\''"#) + "'" : s
    }

    static func jsonLines(_ path: String) throws -> [JSONObject] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard let object = try JSONParser.parse(String(line)).objectValue else {
                throw NSError(domain: "not a JSON object: \(line)", code: 1)
            }
            return object
        }
    }
}
