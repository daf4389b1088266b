import Foundation
import SCIMTestSupport
import XCTest

/// scimsh installed like a Unix tool: `make install`, `make uninstall` and `make dist` with the built debug binary
/// (`BIN=`, so nothing is built again), into temporary folders only. What is checked is what a user meets: the
/// installed binary runs an example script, `man -l` renders the page, bash loads the completion, the unpacked
/// tarball works on its own, and uninstalling leaves nothing of scimsh behind (and everything else in place).
final class InstallTests: XCTestCase {
    /// The files `make install` puts under PREFIX, relative to it.
    static let installedFiles = [
        "bin/scimsh",
        "share/man/man1/scimsh.1",
        "share/bash-completion/completions/scimsh",
        "share/zsh/site-functions/_scimsh",
        "share/fish/vendor_completions.d/scimsh.fish",
    ]

    override func setUpWithError() throws {
        try E2E.requireBinary(Fixtures.scimshPath)
    }

    /// Runs `make TARGET BIN=<debug scimsh> VARIABLES...` in the package. The first run may build ArgumentParser's
    /// generate-manual tool (`make test` builds it before the tests), hence the long timeout.
    func make(_ target: String, _ variables: [String: String]) throws -> Fixtures.ProcessResult {
        let arguments =
            ["make", "--no-print-directory", "-C", Fixtures.packageRoot, target, "BIN=" + Fixtures.scimshPath]
            + variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        // A `make test` around the tests passes its command-line variables down in MAKEFLAGS: not to these runs.
        let result = try Fixtures.run(
            "/usr/bin/env", arguments, environment: ["MAKEFLAGS": "", "MFLAGS": "", "MAKELEVEL": ""], timeout: 600)
        XCTAssertEqual(result.status, 0, "make \(target) failed:\n\(result.stdout)\n\(result.stderr)")
        return result
    }

    /// The regular files (and symbolic links) under a folder, relative to it, sorted.
    func files(under root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        while let path = walker.nextObject() as? String {
            if walker.fileAttributes?[.type] as? FileAttributeType != .typeDirectory { out.append(path) }
        }
        return out.sorted()
    }

    /// Text as a terminal shows it, without man's overstrike for bold and underline ("x\u{8}x", "_\u{8}x").
    func withoutOverstrike(_ text: String) -> String {
        var out: [Character] = []
        for c in text {
            if c == "\u{8}" {
                if !out.isEmpty { out.removeLast() }
            } else {
                out.append(c)
            }
        }
        return String(out)
    }

    /// What the built binary prints for `--version` (`scimsh 0.1.0`).
    func builtVersion() throws -> String {
        let r = try Fixtures.runScimsh(["--version"])
        XCTAssertEqual(r.status, 0)
        return r.stdout
    }

    /// Runs examples/audit-no-email.scim with `scimsh` against the embedded sandbox; checks it against the built
    /// binary's run of the package's own copy of the script.
    func assertRunsTheAuditExample(
        _ scimsh: String, examples: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let args = ["--sandbox", examples + "/audit-no-email.scim", "@example.org"]
        let r = try Fixtures.run(scimsh, args, environment: try E2E.isolatedEnvironment([:]), timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stdout.hasPrefix("id,userName,displayName,emails.value\n"), r.stdout, file: file, line: line)
        XCTAssertTrue(r.stdout.contains(",bjensen,"), r.stdout, file: file, line: line)
        let reference = try Fixtures.runScimsh(
            ["--sandbox", E2E.examplesDirectory + "/audit-no-email.scim", "@example.org"],
            environment: try E2E.isolatedEnvironment([:]))
        XCTAssertEqual(r.stdout, reference.stdout, "same report as the built binary's", file: file, line: line)
    }

    func testInstallIntoAPrefixRunsRendersCompletesAndUninstallsExactlyItsFiles() throws {
        let prefix = try Fixtures.temporaryDirectory() + "/prefix"
        // Something of somebody else's in the prefix: uninstalling must leave it.
        try FileManager.default.createDirectory(atPath: prefix + "/bin", withIntermediateDirectories: true)
        try "#!/bin/sh\n".write(toFile: prefix + "/bin/other-tool", atomically: true, encoding: .utf8)

        _ = try make("install", ["PREFIX": prefix, "DESTDIR": ""])
        XCTAssertEqual(files(under: prefix), (Self.installedFiles + ["bin/other-tool"]).sorted())
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: prefix + "/bin/scimsh"))

        let version = try Fixtures.run(prefix + "/bin/scimsh", ["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertEqual(version.stdout, try builtVersion())
        XCTAssertTrue(version.stdout.hasPrefix("scimsh "), version.stdout)
        try assertRunsTheAuditExample(prefix + "/bin/scimsh", examples: E2E.examplesDirectory)

        // man renders the page: NAME from the command's abstract, the sandbox subcommand and the options, and
        // groff reports no problem with the markup.
        let man = try Fixtures.run(
            "/usr/bin/env", ["man", "--warnings", "-l", prefix + "/share/man/man1/scimsh.1"],
            environment: ["MANPAGER": "cat", "PAGER": "cat", "MANWIDTH": "100", "LC_ALL": "C"])
        XCTAssertEqual(man.status, 0, man.stderr)
        XCTAssertEqual(man.stderr, "", "man and groff warn about nothing in the page")
        let page = withoutOverstrike(man.stdout)
        XCTAssertTrue(page.contains("A shell for administering users over SCIM 2.0"), page)
        XCTAssertTrue(page.contains("--host"), page)
        XCTAssertTrue(page.contains("sandbox"), page)
        XCTAssertTrue(page.contains("--admin-token"), "the sandbox subcommand's options:\n\(page)")
        XCTAssertFalse(page.contains("Run a script, statements"), "the hidden default subcommand run is left out")

        // bash loads the completion and registers it for scimsh.
        let completion = prefix + "/share/bash-completion/completions/scimsh"
        let bash = try Fixtures.run("/bin/bash", ["--norc", "-c", "source '\(completion)' && complete -p scimsh"])
        XCTAssertEqual(bash.status, 0, bash.stderr)
        XCTAssertTrue(bash.stdout.hasPrefix("complete "), bash.stdout)
        XCTAssertTrue(bash.stdout.hasSuffix(" scimsh\n"), bash.stdout)

        _ = try make("uninstall", ["PREFIX": prefix, "DESTDIR": ""])
        XCTAssertEqual(files(under: prefix), ["bin/other-tool"], "only scimsh's files are removed")
    }

    func testInstallHonoursDESTDIR() throws {
        let destdir = try Fixtures.temporaryDirectory() + "/root"
        _ = try make("install", ["PREFIX": "/usr", "DESTDIR": destdir])
        XCTAssertEqual(files(under: destdir), Self.installedFiles.map { "usr/" + $0 }.sorted())
        let version = try Fixtures.run(destdir + "/usr/bin/scimsh", ["--version"])
        XCTAssertEqual(version.stdout, try builtVersion())
        _ = try make("uninstall", ["PREFIX": "/usr", "DESTDIR": destdir])
        XCTAssertEqual(files(under: destdir), [])
    }

    func testDistTarballUnpacksIntoAToolThatRunsOnItsOwn() throws {
        let tmp = try Fixtures.temporaryDirectory()
        _ = try make("dist", ["DISTDIR": tmp + "/dist"])
        let version = try builtVersion().trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(version.hasPrefix("scimsh "), version)
        #if arch(x86_64)
            let arch = "x86_64"
        #elseif arch(arm64)
            let arch = "aarch64"
        #else
            let arch = "unknown"
        #endif
        let name = "scimsh-\(version.dropFirst("scimsh ".count))-linux-\(arch)"
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp + "/dist"), [name + ".tar.gz"])

        let unpacked = tmp + "/unpacked"
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        let tar = try Fixtures.run("/usr/bin/env", ["tar", "-xzf", tmp + "/dist/\(name).tar.gz", "-C", unpacked])
        XCTAssertEqual(tar.status, 0, tar.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: unpacked), [name], "one top folder")
        let top = unpacked + "/" + name
        let shipped = Set(files(under: top))
        for file in Self.installedFiles + ["README.md", "examples/audit-no-email.scim", "examples/data/leavers.csv"] {
            XCTAssertTrue(shipped.contains(file), "\(file) is in the tarball: \(shipped.sorted())")
        }

        let r = try Fixtures.run(top + "/bin/scimsh", ["--version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, version + "\n")
        try assertRunsTheAuditExample(top + "/bin/scimsh", examples: top + "/examples")
    }

    /// ArgumentParser's completion scripts offer the `sandbox` subcommand and never the hidden default `run`.
    func testCompletionScriptsOfferSandboxButNotTheHiddenRunCommand() throws {
        let dir = try Fixtures.temporaryDirectory()
        var scripts: [String: String] = [:]
        for shell in ["bash", "zsh", "fish"] {
            let r = try Fixtures.runScimsh(["--generate-completion-script", shell])
            XCTAssertEqual(r.status, 0, r.stderr)
            scripts[shell] = r.stdout
        }
        let bashScript = dir + "/scimsh.bash"
        try (scripts["bash"] ?? "").write(toFile: bashScript, atomically: true, encoding: .utf8)
        // What bash offers after `scimsh WORD`, run in an empty folder so no file name is among the candidates.
        func offered(_ word: String) throws -> [String] {
            let line = "scimsh " + word
            let r = try Fixtures.run(
                "/bin/bash",
                [
                    "--norc", "-c",
                    "source '\(bashScript)' && COMP_WORDS=(scimsh '\(word)') COMP_CWORD=1 COMP_LINE='\(line)' "
                        + "COMP_POINT=\(line.count) && _scimsh scimsh '\(word)' scimsh; printf '%s\\n' \"${COMPREPLY[@]}\"",
                ], currentDirectory: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
            return r.stdout.split(separator: "\n").map(String.init)
        }
        let all = try offered("")
        XCTAssertTrue(all.contains("sandbox"), "\(all)")
        XCTAssertTrue(all.contains("--host"), "\(all)")
        XCTAssertFalse(all.contains("run"), "\(all)")
        XCTAssertEqual(try offered("sa"), ["sandbox"])
        XCTAssertEqual(try offered("ru"), [])

        let zsh = scripts["zsh"] ?? ""
        XCTAssertTrue(zsh.hasPrefix("#compdef scimsh"), zsh)
        XCTAssertTrue(zsh.contains("'sandbox:"), zsh)
        XCTAssertFalse(zsh.contains("'run:"), zsh)
        let fish = scripts["fish"] ?? ""
        XCTAssertTrue(fish.contains("-fa 'sandbox'"), fish)
        XCTAssertFalse(fish.contains("-fa 'run'"), fish)
    }
}
