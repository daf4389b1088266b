import Foundation
import LineEditor
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fresh temporary directory, removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("history-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The permission bits of `relativePath` inside the directory.
    func mode(_ relativePath: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path + "/" + relativePath)
        return (attributes[.posixPermissions] as? Int) ?? -1
    }

    func contents(_ relativePath: String) throws -> String {
        try String(contentsOfFile: path + "/" + relativePath, encoding: .utf8)
    }
}

@Suite("History file")
struct HistoryFileTests {
    @Test func pathFromXDGStateHome() {
        let path = HistoryFile.defaultPath(environment: ["XDG_STATE_HOME": "/x/state", "HOME": "/home/a"])
        #expect(path == "/x/state/scimsh/history")
        #expect(HistoryFile.defaultPath(environment: ["XDG_STATE_HOME": "/x/state/"]) == "/x/state/scimsh/history")
    }

    @Test func pathFromHomeWhenXDGStateHomeIsUnsetOrRelative() {
        #expect(HistoryFile.defaultPath(environment: ["HOME": "/home/a"]) == "/home/a/.local/state/scimsh/history")
        let relative = HistoryFile.defaultPath(environment: ["XDG_STATE_HOME": "state", "HOME": "/home/a"])
        #expect(relative == "/home/a/.local/state/scimsh/history")
        #expect(HistoryFile.standard(environment: ["HOME": "/h"])?.path == "/h/.local/state/scimsh/history")
        #expect(HistoryFile.standard(environment: ["HOME": "/h"])?.maxEntries == 2000)
    }

    @Test func pathFromThePasswordDatabaseWithoutHome() {
        let path = HistoryFile.defaultPath(environment: [:])
        #expect(path == nil || path?.hasSuffix("/.local/state/scimsh/history") == true)
    }

    @Test func loadingAMissingFileGivesNoEntries() throws {
        let directory = try TemporaryDirectory()
        #expect(try HistoryFile(path: directory.path + "/none/history").load() == [])
    }

    @Test func appendCreatesPrivateDirectoriesAndFile() throws {
        let directory = try TemporaryDirectory()
        let file = HistoryFile(path: directory.path + "/state/scimsh/history")
        try file.append(["find userName eq \"bjensen\""])
        #expect(try directory.mode("state/scimsh/history") == 0o600)
        #expect(try directory.mode("state/scimsh") == 0o700)
        #expect(try directory.contents("state/scimsh/history") == "find userName eq \"bjensen\"\n")
        #expect(try file.load() == ["find userName eq \"bjensen\""])
    }

    @Test func widerPermissionsAreNarrowed() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/history"
        try "echo old\n".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o644)
        let file = HistoryFile(path: path)
        #expect(try file.load() == ["echo old"])
        #expect(try directory.mode("history") == 0o600)
        chmod(path, 0o666)
        try file.append(["echo new"])
        #expect(try directory.mode("history") == 0o600)
        #expect(try file.load() == ["echo old", "echo new"])
    }

    @Test func writingLeavesNoTemporaryFiles() throws {
        let directory = try TemporaryDirectory()
        let file = HistoryFile(path: directory.path + "/history")
        try file.append(["a"])
        try file.append(["b"])
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["history", "history.lock"])
    }

    @Test func sizeIsCapped() throws {
        let directory = try TemporaryDirectory()
        let file = HistoryFile(path: directory.path + "/history", maxEntries: 5)
        try file.append((1...4).map { "echo \($0)" })
        let kept = try file.append((5...8).map { "echo \($0)" })
        #expect(kept == (4...8).map { "echo \($0)" })
        #expect(try file.load() == (4...8).map { "echo \($0)" })
        #expect(HistoryFile(path: "/x", maxEntries: 0).maxEntries == 1)
    }

    @Test func secretAndBlankLinesAreNeverWritten() throws {
        let directory = try TemporaryDirectory()
        let file = HistoryFile(path: directory.path + "/history")
        try file.append([
            "set token = abc", "SET  Api_Token=xyz", "echo a; set token=z", "   ", "", "set host = odm.example.com",
            "\tset token\t=\tq",
        ])
        #expect(try directory.contents("history") == "set host = odm.example.com\n")
    }

    @Test func secretLinesInAnExistingFileAreNotLoaded() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/history"
        try "echo a\nset token = leaked\necho b\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try HistoryFile(path: path).load() == ["echo a", "echo b"])
    }

    @Test func twoSessionsAppendingInTurnKeepBothSessionsLines() throws {
        let directory = try TemporaryDirectory()
        let file = HistoryFile(path: directory.path + "/history")
        try file.append(["from yesterday"])
        let first = HistoryFile(path: file.path)
        let second = HistoryFile(path: file.path)
        try first.append(["a1"])
        try second.append(["b1", "b2"])
        try first.append(["a2"])
        #expect(try file.load() == ["from yesterday", "a1", "b1", "b2", "a2"])
    }

    @Test func concurrentAppendsLoseNothing() async throws {
        let directory = try TemporaryDirectory()
        let file = HistoryFile(path: directory.path + "/history")
        await withTaskGroup(of: Void.self) { group in
            for session in 0..<8 {
                group.addTask {
                    for line in 0..<10 { _ = try? file.append(["s\(session) l\(line)"]) }
                }
            }
        }
        #expect(try file.load().count == 80)
    }

    @Test(arguments: [
        ["find active eq true |\n    patch active=false"],
        ["echo \"a\\nb\"", "back\\slash", "trailing\\", "cr\r\nlf", "\\n literally"],
        ["ünïcödé 🙂", "tab\there"],
    ])
    func multiLineEntriesRoundTrip(entries: [String]) throws {
        #expect(HistoryFile.decode(HistoryFile.encode(entries)) == entries)
        let directory = try TemporaryDirectory()
        let file = HistoryFile(path: directory.path + "/history")
        try file.append(entries)
        #expect(try file.load() == entries)
    }

    @Test func encodingKeepsOneEntryPerLine() {
        let bytes = HistoryFile.encode(["a\nb", "c\\d"])
        #expect(String(decoding: bytes, as: UTF8.self) == "a\\nb\nc\\\\d\n")
    }

    @Test func decodingIsTolerant() {
        #expect(HistoryFile.decode(Array("a\\xb\n\n\nc".utf8)) == ["a\\xb", "c"])
        #expect(HistoryFile.decode(Array("end\\".utf8)) == ["end\\"])
        #expect(HistoryFile.decode([0xFF, 0xFE, 0x0A, 0x61]) == ["\u{FFFD}\u{FFFD}", "a"])
        #expect(HistoryFile.decode([]) == [])
    }

    @Test func errorsDescribeTheFailure() throws {
        let directory = try TemporaryDirectory()
        let blocker = directory.path + "/file"
        try "x".write(toFile: blocker, atomically: false, encoding: .utf8)
        let file = HistoryFile(path: blocker + "/sub/history")
        #expect(throws: HistoryFileError.self) { try file.append(["a"]) }
        do {
            try file.append(["a"])
        } catch {
            #expect(error.description.hasPrefix("history: cannot mkdir \(blocker)/sub: "))
        }
    }
}

@Suite("Secret filter")
struct SecretFilterTests {
    @Test(arguments: [
        "set token = abc", "set api_token = abc", "set token=abc", "SET TOKEN = abc", "  set\ttoken\t=abc",
        "Set Api_Token= x", "echo hi; set token = x", "echo hi;set token=x", "set my_password = x",
        "set client_secret = x", "set token = $env.ODM_TOKEN", "echo a\nset token = b",
    ])
    func secretLines(line: String) {
        #expect(SecretFilter.containsSecret(line))
        #expect(!HistoryFile.isStorable(line))
    }

    @Test(arguments: [
        "set host = odm.example.com", "echo set token = x", "find userName eq \"token\"", "settoken = x",
        "set token", "unset token", "vars", "set output = json", "find x | patch displayName=\"set token = y\"",
    ])
    func ordinaryLines(line: String) {
        #expect(!SecretFilter.containsSecret(line))
    }
}
