import Foundation
import SCIMSandbox
import SCIMTestSupport
import XCTest

/// The prompt of a session started with a profile: its name, and a production profile's warning (red on a
/// terminal without NO_COLOR) and confirmation before any change.
extension REPLTests {
    /// Writes a profiles file into this test's config home for a sandbox, with the token in `SB_TOKEN`.
    func writeSandboxProfiles(_ server: SandboxServer) throws {
        let dir = configHome + "/scimsh"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try """
        [staging]
        host = "http://127.0.0.1:\(server.port)"
        token_env = "SB_TOKEN"

        [prod]
        host = "http://127.0.0.1:\(server.port)"
        token_env = "SB_TOKEN"
        production = true
        """.write(toFile: dir + "/profiles.toml", atomically: true, encoding: .utf8)
    }

    func trimmedLastLine(_ screen: String) -> String {
        let rows = screen.split(separator: "\n").map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }
        return rows.last { !$0.isEmpty } ?? ""
    }

    func testProfilePromptProductionWarningAndConfirmation() async throws {
        let server = try await Fixtures.sandbox()
        addTeardownBlock { await server.stop() }
        try writeSandboxProfiles(server)
        let tmux = try launch(["--profile", "staging"], environment: ["SB_TOKEN": "scimsh-sandbox-admin"])
        try await waitForPrompt(tmux, "scimsh staging> ", timeout: .seconds(15))

        try tmux.sendLine("connect prod")
        let screen = try await tmux.waitUntil("the production prompt") {
            self.trimmedLastLine($0) == "scimsh prod [PRODUCTION]>"
        }
        XCTAssertTrue(screen.contains("PRODUCTION: every change asks first"), screen)

        // confirm_above is 0: even a change to one user asks first.
        try tmux.sendLine("find userName eq \"bjensen\" | patch displayName=\"B\"")
        try await tmux.waitUntil("the confirmation question") {
            let last = self.trimmedLastLine($0)
            return last.hasPrefix("apply to ") && last.hasSuffix("[y/N]")
        }
        try tmux.sendLine("n")
        try await waitForPrompt(tmux, "scimsh prod [PRODUCTION]> ")
        XCTAssertEqual(server.requestLog().filter(\.isWrite).count, 0, "answered no: nothing written")

        // Tab completes profile names from the file.
        try tmux.sendText("connect st")
        try tmux.sendKeys("Tab")
        try await waitForInput(tmux, "connect staging ", prompt: "scimsh prod [PRODUCTION]> ")
        try tmux.sendKeys("Enter")
        try await waitForPrompt(tmux, "scimsh staging> ")
        XCTAssertFalse(try tmux.screenWithScrollback().contains("scimsh-sandbox-admin"))
    }

    func testProductionIsRedWithoutNoColor() async throws {
        let server = try await Fixtures.sandbox()
        addTeardownBlock { await server.stop() }
        try writeSandboxProfiles(server)
        // `NO_COLOR` is set for every test by `launch`; `env -u` takes it away again for this one.
        let tmux = try launch(
            ["--profile", "prod"], environment: ["SB_TOKEN": "scimsh-sandbox-admin", "TERM": "xterm-256color"],
            unsetting: ["NO_COLOR"])
        try await waitForPrompt(tmux, "scimsh prod [PRODUCTION]> ", timeout: .seconds(15))
        let colored = try tmux.run(["capture-pane", "-p", "-e", "-t", tmux.sessionName])
        let line = colored.split(separator: "\n").last { $0.contains("[PRODUCTION]") } ?? ""
        XCTAssertTrue(line.contains("31m"), "red: \(line.debugDescription)")
        let plain = try tmux.screen()
        XCTAssertTrue(plain.contains("scimsh prod [PRODUCTION]> "), "the escapes take no room:\n\(plain)")
    }
}
