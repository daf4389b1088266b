import Foundation
import LineEditor
import Testing

@Suite("Tab action")
struct CompletionActionTests {
    private func plan(_ line: String, _ candidates: [String], from start: Int? = nil, space: Bool = true)
        -> CompletionAction
    {
        let cursor = line.utf8.count
        let completion = Completion(candidates: candidates, replacing: (start ?? cursor)..<cursor, appendsSpace: space)
        return CompletionAction.plan(line: line, cursor: cursor, completion: completion)
    }

    @Test func noCandidateBeeps() {
        #expect(plan("xyz", [], from: 0) == .beep)
        #expect(CompletionAction.plan(line: "", cursor: 0, completion: .none) == .beep)
    }

    @Test func uniqueCandidateInsertsTheRestAndASpace() {
        #expect(plan("fi", ["find"], from: 0) == .replace(deleteCount: 0, insert: "nd "))
        #expect(plan("find", ["find"], from: 0) == .replace(deleteCount: 0, insert: " "))
        #expect(plan("find ", ["userName"]) == .replace(deleteCount: 0, insert: "userName "))
    }

    @Test func noSpaceAfterADirectoryOrWhenTheCompletionSaysSo() {
        #expect(plan("source ex", ["examples/"], from: 7) == .replace(deleteCount: 0, insert: "amples/"))
        #expect(plan("echo $us", ["$users"], from: 5, space: false) == .replace(deleteCount: 0, insert: "ers"))
    }

    @Test func uniqueCandidateWithOtherCaseReplacesTheWord() {
        #expect(plan("find usern", ["userName"], from: 5) == .replace(deleteCount: 5, insert: "userName "))
    }

    @Test func replacementCountsUnicodeScalars() {
        // "Jü" is 3 UTF-8 bytes but 2 scalars, the unit el_deletestr counts in.
        #expect(plan("x jü", ["Jürgen"], from: 2) == .replace(deleteCount: 2, insert: "Jürgen "))
    }

    @Test func severalCandidatesInsertTheirCommonPrefix() {
        #expect(
            plan("find userName eq \"b", ["\"bjensen\"", "\"bjorn\""], from: 17)
                == .replace(deleteCount: 0, insert: "j"))
        #expect(
            plan("find userName eq b", ["\"bjensen\"", "\"bjorn\""], from: 17)
                == .replace(deleteCount: 1, insert: "\"bj"))
        #expect(plan("find e", ["emails.type", "emails.value"], from: 5) == .replace(deleteCount: 0, insert: "mails."))
    }

    @Test func severalCandidatesWithoutProgressAreListed() {
        #expect(plan("fi", ["find", "first"], from: 0) == .list(["find", "first"]))
        #expect(plan("", ["b", "a", "b"]) == .list(["b", "a"]))
    }

    @Test func rangesOutsideTheLineAreClamped() {
        let completion = Completion(candidates: ["find"], replacing: -3..<99)
        #expect(
            CompletionAction.plan(line: "fi", cursor: 2, completion: completion)
                == .replace(deleteCount: 0, insert: "nd "))
        #expect(
            CompletionAction.plan(line: "fi", cursor: 50, completion: completion)
                == .replace(deleteCount: 0, insert: "nd "))
    }
}

@Suite("Candidate listing")
struct CompletionListingTests {
    @Test func fillsColumnsTopToBottom() {
        let listing = CompletionListing.format(["aa", "bb", "cc", "dd", "ee"], width: 12)
        #expect(listing == "aa  cc  ee\nbb  dd\n")
    }

    @Test func oneColumnWhenTooNarrow() {
        #expect(CompletionListing.format(["userName", "displayName"], width: 5) == "userName\ndisplayName\n")
    }

    @Test func longListsAreCut() {
        let listing = CompletionListing.format((1...10).map(String.init), width: 1, limit: 3)
        #expect(listing == "1\n2\n3\n… and 7 more\n")
    }

    @Test func emptyAndZeroWidthAreSafe() {
        #expect(CompletionListing.format([], width: 80) == "")
        #expect(CompletionListing.format(["a"], width: 0) == "a\n")
        #expect(CompletionListing.format(["a", "b"], width: -4, limit: -1) == "a\n… and 1 more\n")
    }
}

/// The editor itself, without a terminal: libedit initialises on any streams, so history behaviour is testable.
@Suite("Line editor history", .serialized)
struct LineEditorHistoryTests {
    @Test func secretBlankAndRepeatedLinesAreNotKept() throws {
        let editor = try #require(LineEditor(programName: "scimsh-test"))
        editor.addHistory("find active eq true")
        editor.addHistory("find active eq true")
        editor.addHistory("set token = abc")
        editor.addHistory("SET api_token=abc")
        editor.addHistory("   ")
        editor.addHistory("get 42")
        #expect(editor.historyEntries == ["find active eq true", "get 42"])
    }

    @Test func saveWritesOnlyNewLinesOnce() throws {
        let directory = try TemporaryDirectory()
        let file = HistoryFile(path: directory.path + "/history")
        try file.append(["from yesterday"])
        let editor = try #require(LineEditor(programName: "scimsh-test"))
        try editor.loadHistory(from: file)
        #expect(editor.historyEntries == ["from yesterday"])
        editor.addHistory("echo one")
        try editor.saveHistory(to: file)
        try editor.saveHistory(to: file)
        editor.addHistory("echo two")
        try editor.saveHistory(to: file)
        #expect(try file.load() == ["from yesterday", "echo one", "echo two"])
    }

    @Test func twoEditorsShareOneFile() throws {
        let directory = try TemporaryDirectory()
        let file = HistoryFile(path: directory.path + "/history")
        let first = try #require(LineEditor(programName: "scimsh-test"))
        let second = try #require(LineEditor(programName: "scimsh-test"))
        try first.loadHistory(from: file)
        try second.loadHistory(from: file)
        first.addHistory("a1")
        second.addHistory("b1")
        try first.saveHistory(to: file)
        try second.saveHistory(to: file)
        first.addHistory("a2")
        try first.saveHistory(to: file)
        #expect(try file.load() == ["a1", "b1", "a2"])
        #expect(first.historyEntries == ["a1", "a2"])
        let third = try #require(LineEditor(programName: "scimsh-test"))
        try third.loadHistory(from: file)
        #expect(third.historyEntries == ["a1", "b1", "a2"])
    }

    @Test func loadingUsesTheFileCapacity() throws {
        let directory = try TemporaryDirectory()
        let file = HistoryFile(path: directory.path + "/history", maxEntries: 3)
        let editor = try #require(LineEditor(programName: "scimsh-test"))
        try editor.loadHistory(from: file)
        for number in 1...5 { editor.addHistory("echo \(number)") }
        #expect(editor.historyCapacity == 3)
        #expect(editor.historyEntries == ["echo 3", "echo 4", "echo 5"])
        try editor.saveHistory(to: file)
        #expect(try file.load() == ["echo 3", "echo 4", "echo 5"])
    }

    @Test func multiLineEntriesSurviveARestart() throws {
        let directory = try TemporaryDirectory()
        let file = HistoryFile(path: directory.path + "/history")
        let entry = "find active eq false |\n    delete"
        let editor = try #require(LineEditor(programName: "scimsh-test"))
        editor.addHistory(entry)
        try editor.saveHistory(to: file)
        let next = try #require(LineEditor(programName: "scimsh-test"))
        try next.loadHistory(from: file)
        #expect(next.historyEntries == [entry])
    }
}
