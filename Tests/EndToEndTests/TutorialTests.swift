import Foundation
import SCIMTestSupport
import XCTest

/// The guided tutorial (issue 17): every lesson file's reference answer passes its own checks against the sandbox,
/// lesson files that are wrong are refused with their name, and a learner in a real terminal does three lessons
/// (one wrong try and its hint), leaves, and resumes.
final class TutorialTests: XCTestCase {
    private var home = ""

    override func setUpWithError() throws {
        home = try E2E.freshHome(for: self)
    }

    var environment: [String: String] {
        ["HOME": home, "XDG_STATE_HOME": home + "/state", "XDG_CONFIG_HOME": home + "/config", "TMPDIR": home]
    }

    /// The lesson files of the repository, by name.
    var lessonFiles: [String] {
        get throws {
            try FileManager.default.contentsOfDirectory(atPath: Fixtures.packageRoot + "/tutorial")
                .filter { $0.hasSuffix(".toml") }.sorted()
        }
    }

    // MARK: Every lesson, played

    func testEveryBuiltInLessonPassesWithItsAnswer() throws {
        let r = try Fixtures.runScimsh(["tutorial", "verify"], environment: environment, timeout: 120)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let files = try lessonFiles
        XCTAssertGreaterThanOrEqual(files.count, 10)
        for (i, file) in files.enumerated() {
            XCTAssertTrue(r.stdout.contains("ok    \(i + 1). \(file.dropLast(5))\n"), "\(file):\n\(r.stdout)")
        }
        XCTAssertTrue(r.stdout.hasSuffix("\(files.count) of \(files.count) lessons pass with their answers\n"))
    }

    /// The binary carries the files as they are in the repository (a teacher's new file is built in).
    func testTheFolderVerifiesLikeTheBuiltInLessons() throws {
        let r = try Fixtures.runScimsh(
            ["tutorial", "verify", Fixtures.packageRoot + "/tutorial"], environment: environment, timeout: 120)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let builtIn = try Fixtures.runScimsh(["tutorial", "list"], environment: environment)
        for file in try lessonFiles {
            let text = try String(contentsOfFile: Fixtures.packageRoot + "/tutorial/" + file, encoding: .utf8)
            let title = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("title = ") })
            let quoted = title.dropFirst("title = ".count).dropFirst().dropLast()
            XCTAssertTrue(builtIn.stdout.contains(String(quoted)), "\(file) is not built in:\n\(builtIn.stdout)")
        }
    }

    /// A lesson whose answer does not do what its check asks fails `verify`, naming the lesson and the check.
    func testVerifyFailsALessonWhoseAnswerDoesNotPass() throws {
        let folder = home + "/lessons"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try """
        title = "Wrong on purpose"
        text = "Deactivate bjensen."
        task = "Deactivate bjensen."
        answer = 'find userName eq "rkumar" | delete'
        hint = "delete her"

        [[check]]
        statement = 'find userName eq "bjensen" | count'
        equals = "0"
        """.write(toFile: folder + "/01-wrong.toml", atomically: true, encoding: .utf8)
        let r = try Fixtures.runScimsh(["tutorial", "verify", folder], environment: environment)
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(
            r.stdout.contains(#"FAIL  1. 01-wrong: 'find userName eq "bjensen" | count' gives 1, not 0"#), r.stdout)
    }

    /// A lesson file with a mistake is refused with its name and what to fix.
    func testABrokenLessonFileIsNamed() throws {
        let folder = home + "/lessons"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "title = \"No checks\"\ntext = \"t\"\ntask = \"t\"\nanswer = \"find\"\nhint = \"h\"\n"
            .write(toFile: folder + "/01-none.toml", atomically: true, encoding: .utf8)
        var r = try Fixtures.runScimsh(["tutorial", "verify", folder], environment: environment)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, "scimsh: 01-none.toml: a lesson needs at least one [[check]] table\n")
        try "title = \"x\"\ncolour = 1\n".write(toFile: folder + "/01-none.toml", atomically: true, encoding: .utf8)
        r = try Fixtures.runScimsh(["tutorial", "verify", folder], environment: environment)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("scimsh: 01-none.toml: unknown key 'colour'"), r.stderr)
    }

    func testListShowsProgressAndResetForgetsIt() throws {
        try FileManager.default.createDirectory(atPath: home + "/state/scimsh", withIntermediateDirectories: true)
        try "01-users\nno-such-lesson\n".write(
            toFile: home + "/state/scimsh/tutorial", atomically: true, encoding: .utf8)
        var r = try Fixtures.runScimsh(["tutorial", "list"], environment: environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("✓  1. What a User resource is\n   2. "), r.stdout)
        XCTAssertTrue(
            r.stdout.hasSuffix(
                "\n1 of \(try lessonFiles.count) done. 'tutorial' goes on, 'tutorial N' does lesson N.\n"))
        r = try Fixtures.runScimsh(["tutorial", "reset"], environment: environment)
        XCTAssertEqual(r.stdout, "Tutorial progress cleared; 'tutorial' starts at lesson 1.\n")
        XCTAssertEqual(try String(contentsOfFile: home + "/state/scimsh/tutorial", encoding: .utf8), "")
        r = try Fixtures.runScimsh(["tutorial", "list"], environment: environment)
        XCTAssertTrue(r.stdout.hasPrefix("   1. What a User resource is\n"), r.stdout)
    }

    func testAWrongLessonNumberIsAUsageError() throws {
        let r = try Fixtures.runScimsh(["tutorial", "99"], environment: environment)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("usage: tutorial [list | reset | N | verify [FOLDER]]"), r.stderr)
    }

    // MARK: A learner at a terminal

    func launch(_ arguments: [String]) throws -> TmuxSession {
        let tmux = try E2E.terminal(arguments, home: home)
        addTeardownBlock { tmux.kill() }
        return tmux
    }

    func waitForPrompt(_ tmux: TmuxSession, _ prompt: String) async throws {
        try await E2E.waitForLastLine(tmux, prompt, timeout: .seconds(15))
    }

    func testALearnerDoesThreeLessonsLeavesAndResumes() async throws {
        try TmuxSession.require()
        let tmux = try launch(["tutorial"])
        try await tmux.waitFor("Lesson 1/")
        try await waitForPrompt(tmux, "tutorial 1> ")

        // A wrong try: the table shows her id but not her meta, so the lesson is not done, and the hint shows.
        try tmux.sendLine(#"find userName eq "bjensen""#)
        var screen = try await tmux.waitFor("✗ Not yet")
        XCTAssertTrue(screen.contains("Hint: Type find, a filter, a pipe and show"), screen)
        XCTAssertTrue(screen.contains("> GET /api/v1/scim/Users?filter=userName eq \"bjensen\""), screen)
        XCTAssertTrue(screen.contains("> Authorization: Bearer ****"), screen)
        XCTAssertTrue(screen.contains("< 200 OK"), screen)
        XCTAssertFalse(screen.contains("scimsh-sandbox-admin"), screen)
        try await waitForPrompt(tmux, "tutorial 1> ")

        // Any statement that shows her whole record counts: not the reference answer's text.
        try tmux.sendLine(#"find userName eq "bjensen" and active eq true | json"#)
        screen = try await tmux.waitFor("✓ Lesson 1 done")
        XCTAssertTrue(screen.contains("Read: RFC 7643 §4.1"), screen)
        try await waitForPrompt(tmux, "tutorial 2> ")

        try tmux.sendLine(#"find | where userName sw "a""#)
        try await tmux.waitFor("✓ Lesson 2 done")
        try await waitForPrompt(tmux, "tutorial 3> ")

        // Two lines: the first alone sends nothing and is not yet the lesson; the session keeps page_size.
        try tmux.sendLine("set page_size = 2")
        try await tmux.waitFor("✗ Not yet")
        try tmux.sendLine("find | count")
        screen = try await tmux.waitFor("✓ Lesson 3 done")
        XCTAssertTrue(screen.contains("count=2"), screen)
        try await waitForPrompt(tmux, "tutorial 4> ")

        try tmux.sendKeys("C-d")
        screen = try await tmux.waitFor("[scimsh exited 0]")
        XCTAssertTrue(screen.contains("goes on at lesson 4"), screen)
        let progress = try String(contentsOfFile: home + "/state/scimsh/tutorial", encoding: .utf8)
        XCTAssertEqual(progress, "01-users\n02-filters\n03-paging\n")

        // Back at the shell's prompt, `tutorial` resumes at lesson 4, and `quit` returns to the shell.
        let shell = try launch([])
        try await waitForPrompt(shell, "scimsh [sandbox]> ")
        try shell.sendLine("tutorial list")
        screen = try await shell.waitFor("3 of ")
        XCTAssertTrue(screen.contains("✓  3. Paging"), screen)
        XCTAssertTrue(screen.contains("   4. Get a user by id"), screen)
        try shell.sendLine("tutorial")
        screen = try await shell.waitFor("Lesson 4/")
        XCTAssertFalse(screen.contains("Lesson 1/"), screen)
        try await waitForPrompt(shell, "tutorial 4> ")
        try shell.sendLine("hint")
        try await shell.waitFor("Hint: get takes ids")
        try shell.sendLine("quit")
        try await waitForPrompt(shell, "scimsh [sandbox]> ")
        try shell.sendLine(#"echo back "in" the shell"#)
        try await shell.waitFor("\nback in the shell")
    }

    /// SIGTERM at the tutorial's prompt ends scimsh with 143 (it used to read on as after Ctrl-C), from
    /// `scimsh tutorial` and from `tutorial` typed at the shell's prompt alike.
    func testSIGTERMAtTheTutorialPromptExits143() async throws {
        try TmuxSession.require()
        for atShellPrompt in [false, true] {
            let tmux = try launch(atShellPrompt ? [] : ["tutorial"])
            if atShellPrompt {
                try await waitForPrompt(tmux, "scimsh [sandbox]> ")
                try tmux.sendLine("tutorial")
            }
            try await waitForPrompt(tmux, "tutorial 1> ")
            let shell = try tmux.run(["display-message", "-p", "-t", tmux.sessionName, "#{pane_pid}"])
            let children = try Fixtures.run(
                "/usr/bin/pgrep", ["-P", shell.trimmingCharacters(in: .whitespacesAndNewlines)])
            let pid = try XCTUnwrap(
                Int32(children.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), children.stdout)
            kill(pid, SIGTERM)
            let screen = try await tmux.waitFor("[scimsh exited 143]")
            XCTAssertTrue(screen.contains("scimsh: terminated by SIGTERM"), screen)
            tmux.kill()
        }
    }
}
