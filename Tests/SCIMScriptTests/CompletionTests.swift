import Foundation
import SCIMScript
import Testing

/// The context every test completes against: standard commands, statements and attributes plus a few session
/// values and a fixed file list.
private let context = CompletionContext(
    variables: ["users", "user_count", "admins"],
    helpTopics: ["filter", "find", "patch", "variables"],
    knownIds: ["2819c223", "2a1f-99", "id with space"],
    knownUserNames: ["bjensen", "bjorn", "Alice", "o\"brien", "Jürgen"],
    fileLister: { prefix in
        ["examples/", "examples/offboard.scim", "notes.csv", "my file.csv"].filter { $0.hasPrefix(prefix) }
    },
    profileNames: ["prod", "staging", "prod-eu"]
)

/// Completes `input` with the cursor at `‸`, or at the end when there is none.
private func complete(_ input: String) -> CompletionResult {
    guard let marker = input.range(of: "‸") else {
        return Completer.complete(line: input, cursor: input.utf8.count, context: context)
    }
    let line = input.replacingCharacters(in: marker, with: "")
    let cursor = input[..<marker.lowerBound].utf8.count
    return Completer.complete(line: line, cursor: cursor, context: context)
}

private let allCommands = CompletionContext.standardCommands.sorted()
private let statementsAndCommands = (CompletionContext.standardStatements + CompletionContext.standardCommands).sorted()
private let allAttributes = CompletionContext.standardAttributes.sorted()
private let operators = ["co", "eq", "ew", "ge", "gt", "le", "lt", "ne", "pr", "sw"]

@Suite("Completion: statements and stages")
struct StageCompletionTests {
    @Test func emptyLineOffersStatementsAndCommands() {
        let result = complete("")
        #expect(result.candidates == statementsAndCommands)
        #expect(result.range == 0..<0)
        #expect(result.position == .statementStart)
        #expect(result.appendsSpace)
    }

    @Test func commandPrefixAtStartOfLine() {
        let result = complete("fi")
        #expect(result.candidates == ["find", "first"])
        #expect(result.range == 0..<2)
    }

    @Test func statementPrefixAtStartOfLine() {
        #expect(complete("ex").candidates == ["exit", "expect", "explain"])
        #expect(complete("  he").candidates == ["help"])
        #expect(complete("  he").range == 2..<4)
    }

    @Test func matchingIgnoresCaseAndKeepsCanonicalSpelling() {
        #expect(complete("FI").candidates == ["find", "first"])
    }

    @Test func afterPipeOffersCommandsOnly() {
        let result = complete("find userName eq \"x\" | ")
        #expect(result.candidates == allCommands)
        #expect(result.position == .stageStart)
        #expect(complete("find userName eq \"x\" | pa").candidates == ["patch"])
        #expect(complete("find userName eq \"x\"|pa").candidates == ["patch"])
        #expect(complete("find active eq true | se").candidates == ["select"])
    }

    @Test func afterSemicolonOffersStatementsAgain() {
        let result = complete("echo hi; se")
        #expect(result.candidates == ["select", "set"])
        #expect(result.position == .statementStart)
        #expect(result.range == 9..<11)
    }

    @Test func afterExplainOffersCommands() {
        #expect(complete("explain ").candidates == allCommands)
        #expect(complete("explain fi").candidates == ["find", "first"])
        #expect(complete("explain ec").candidates == [])
    }

    @Test func afterLetOffersCommands() {
        #expect(complete("let admins = ").candidates == allCommands)
        #expect(complete("let admins = fi").candidates == ["find", "first"])
        #expect(complete("let admins = find active eq true | co").candidates == ["connect", "count"])
        #expect(complete("let ").candidates == [])
        #expect(complete("let admins ").candidates == [])
    }

    @Test func continuationLines() {
        #expect(complete("find userName eq \"x\" |\npa").candidates == ["patch"])
        #expect(complete("find userName eq \"x\" |\npa").position == .stageStart)
        #expect(complete("echo a\nfi").position == .statementStart)
        #expect(complete("find userName \\\n e").candidates == ["eq", "ew"])
    }

    @Test func stagesWithoutArgumentsOfferNothing() {
        #expect(complete("find active eq true | count ").candidates == [])
        #expect(complete("echo ").candidates == [])
        #expect(complete("vars ").candidates == [])
        #expect(complete("find x | first ").candidates == [])
    }

    @Test func cursorInTheMiddleCompletesTheTextBeforeIt() {
        let result = complete("fi‸ userName eq \"x\"")
        #expect(result.candidates == ["find", "first"])
        #expect(result.range == 0..<2)
        #expect(complete("find userName eq \"x\" | pa‸tch").candidates == ["patch"])
    }

    @Test func nothingInsideAComment() {
        let result = complete("find # use")
        #expect(result.candidates == [])
        #expect(result.position == .none)
    }
}

@Suite("Completion: filters")
struct FilterCompletionTests {
    @Test func attributesAfterFindAndWhere() {
        let result = complete("find ")
        #expect(result.candidates == (allAttributes + ["not"]).sorted())
        #expect(result.position == .filterAttribute)
        #expect(complete("where ").candidates == (allAttributes + ["not"]).sorted())
    }

    @Test func attributePrefix() {
        #expect(complete("find user").candidates == ["userName"])
        #expect(complete("find USERN").candidates == ["userName"])
        #expect(complete("find USERN").range == 5..<10)
        #expect(complete("where disp").candidates == ["displayName"])
        #expect(
            complete("find meta.").candidates == [
                "meta.created", "meta.lastModified", "meta.location", "meta.resourceType",
            ])
        #expect(complete("find emails").candidates == ["emails", "emails.primary", "emails.type", "emails.value"])
    }

    @Test func attributesSeenFromTheServer() {
        var extended = context
        extended.attributes += ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"]
        let result = Completer.complete(line: "find urn:", cursor: 9, context: extended)
        #expect(result.candidates == ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"])
    }

    @Test func operatorsAfterAnAttribute() {
        let result = complete("find userName ")
        #expect(result.candidates == operators)
        #expect(result.position == .filterOperator)
        #expect(complete("find userName e").candidates == ["eq", "ew"])
        #expect(complete("where displayName c").candidates == ["co"])
        #expect(complete("find userName eq \"x\" and active ").candidates == operators)
    }

    @Test func logicalOperatorsAfterACompleteComparison() {
        let result = complete("find userName eq \"bjensen\" ")
        #expect(result.candidates == ["and", "or"])
        #expect(result.position == .filterLogical)
        #expect(complete("find userName pr ").candidates == ["and", "or"])
        #expect(complete("find userName eq \"x\" a").candidates == ["and"])
        #expect(complete("where active eq true o").candidates == ["or"])
        #expect(complete("find (userName eq \"x\" or userName eq \"y\") ").candidates == ["and", "or"])
        #expect(complete("find meta.created gt \"2024-01-01\" ").candidates == ["and", "or"])
    }

    @Test func attributesAfterAndOrNot() {
        let expected = (allAttributes + ["not"]).sorted()
        #expect(complete("find userName eq \"x\" and ").candidates == expected)
        #expect(complete("find userName eq \"x\" or ").candidates == expected)
        #expect(complete("find not (").candidates == expected)
        #expect(complete("find (").candidates == expected)
        #expect(complete("find no").candidates == ["not"])
        #expect(complete("find not ").candidates == [])
    }

    @Test func limitFlagIsNotPartOfTheFilter() {
        #expect(complete("find --limit 5 ").candidates == (allAttributes + ["not"]).sorted())
        #expect(complete("find --limit 5 userName ").candidates == operators)
    }

    @Test func subAttributesInsideBrackets() {
        let result = complete("find emails[")
        #expect(result.candidates == ["primary", "type", "value"])
        #expect(result.position == .filterAttribute)
        #expect(complete("find emails[ty").candidates == ["type"])
        #expect(complete("find emails[ty").range == 12..<14)
        #expect(complete("find emails[type ").candidates == operators)
        #expect(complete("find emails[type eq \"work\" and ").candidates == ["primary", "type", "value"])
        #expect(complete("find emails[type eq \"work\"] ").candidates == ["and", "or"])
        #expect(complete("find emails[type eq \"work\"] and ").candidates == (allAttributes + ["not"]).sorted())
        #expect(complete("where emails[value ew \"@example.com\" and primary eq ").candidates == ["false", "true"])
    }

    @Test func subAttributesOfAnUnknownComplexAttribute() {
        #expect(complete("find phoneNumbers[").candidates == ["display", "primary", "type", "value"])
    }

    @Test func quotedUserNamesInAFilterValue() {
        let result = complete("find userName eq \"bj")
        #expect(result.candidates == ["\"bjensen\"", "\"bjorn\""])
        #expect(result.range == 17..<20)
        #expect(result.position == .filterValue)
        #expect(complete("find userName eq \"bje").candidates == ["\"bjensen\""])
        #expect(complete("find userName sw \"AL").candidates == ["\"Alice\""])
        #expect(complete("find userName eq \"o").candidates == ["\"o\\\"brien\""])
        #expect(complete("where userName eq \"bjensen\"").candidates == ["\"bjensen\""])
    }

    @Test func userNamesBeforeAnyQuote() {
        let result = complete("find userName eq ")
        #expect(result.candidates == ["\"Alice\"", "\"Jürgen\"", "\"bjensen\"", "\"bjorn\"", "\"o\\\"brien\""])
        let typed = complete("find userName eq bj")
        #expect(typed.candidates == ["\"bjensen\"", "\"bjorn\""])
        #expect(typed.range == 17..<19)
    }

    @Test func userNameOffsetsAreUTF8() {
        let result = complete("find userName eq \"Jü")
        #expect(result.candidates == ["\"Jürgen\""])
        #expect(result.range == 17..<21)
    }

    @Test func singleQuotedValuesStaySingleQuoted() {
        #expect(complete("find userName eq 'bje").candidates == ["'bjensen'"])
    }

    @Test func quotedIdsInAFilterValue() {
        #expect(complete("find id eq \"28").candidates == ["\"2819c223\""])
        #expect(complete("find id eq ").candidates == ["\"2819c223\"", "\"2a1f-99\"", "\"id with space\""])
    }

    @Test func booleanAndTypeValues() {
        #expect(complete("where active eq ").candidates == ["false", "true"])
        #expect(complete("where active eq t").candidates == ["true"])
        #expect(complete("find emails[type eq ").candidates == ["\"home\"", "\"other\"", "\"work\""])
        #expect(complete("find displayName co ").candidates == [])
    }
}

@Suite("Completion: arguments")
struct ArgumentCompletionTests {
    @Test func selectOffersAttributes() {
        let result = complete("find active eq true | select ")
        #expect(result.candidates == allAttributes)
        #expect(result.position == .attribute)
        #expect(complete("select userName, emails.").candidates == ["emails.primary", "emails.type", "emails.value"])
        #expect(complete("select userName,disp").candidates == ["displayName"])
    }

    @Test func sortOffersAttributesThenDirection() {
        #expect(complete("sort ").candidates == allAttributes)
        #expect(complete("sort meta.l").candidates == ["meta.lastModified", "meta.location"])
        #expect(complete("sort userName ").candidates == ["desc"])
        #expect(complete("sort userName ").position == .sortDirection)
        // The next sort key.
        #expect(complete("sort userName desc ").candidates == allAttributes)
    }

    @Test func patchOffersAttributesAndOperations() {
        let result = complete("find userName eq \"bjensen\" | patch ")
        #expect(result.candidates == (allAttributes + ["add", "remove", "replace"]).sorted())
        #expect(result.position == .patchOperation)
        #expect(complete("find | patch a").candidates == ["active", "add"])
        #expect(complete("patch displayName=\"B. Jensen\" re").candidates == ["remove", "replace"])
        #expect(complete("patch remove ext").candidates == ["externalId"])
        #expect(complete("patch add em").candidates == ["emails", "emails.primary", "emails.type", "emails.value"])
        #expect(complete("patch active=false disp").candidates == ["displayName"])
    }

    @Test func patchValues() {
        let result = complete("patch active=")
        #expect(result.candidates == ["false", "true"])
        #expect(result.position == .assignmentValue)
        #expect(result.range == 13..<13)
        #expect(complete("patch active=f").candidates == ["false"])
        #expect(complete("patch active = f").candidates == ["false"])
        #expect(complete("patch displayName=").candidates == [])
    }

    @Test func patchWithValuePathFilter() {
        #expect(complete("patch emails[").candidates == ["primary", "type", "value"])
        #expect(complete("patch emails[type eq ").candidates == ["\"home\"", "\"other\"", "\"work\""])
    }

    @Test func createOffersAttributes() {
        #expect(
            complete("create userName=bjensen em").candidates == [
                "email", "emails", "emails.primary", "emails.type", "emails.value",
            ])
        #expect(complete("create active=").candidates == ["false", "true"])
    }

    @Test func idsAfterGetDeleteDeactivate() {
        let result = complete("get ")
        #expect(result.candidates == ["\"id with space\"", "2819c223", "2a1f-99"])
        #expect(result.position == .userId)
        #expect(complete("delete 28").candidates == ["2819c223"])
        #expect(complete("deactivate 2").candidates == ["2819c223", "2a1f-99"])
        #expect(complete("get 2819c223 2a").candidates == ["2a1f-99"])
        #expect(complete("get \"id").candidates == ["\"id with space\""])
    }

    @Test func variablesAfterDollar() {
        let result = complete("$")
        #expect(result.candidates == ["$admins", "$user_count", "$users"])
        #expect(result.position == .variable)
        #expect(!result.appendsSpace)
        let typed = complete("find userName eq $us")
        #expect(typed.candidates == ["$user_count", "$users"])
        #expect(typed.range == 17..<20)
        #expect(complete("echo ${ad").candidates == ["${admins}"])
        #expect(complete("$admins | sel").candidates == ["select"])
        #expect(complete("patch displayName=$ad").candidates == ["$admins"])
    }

    @Test func variablesInsideADoubleQuotedString() {
        let result = complete("echo \"found $user")
        #expect(result.candidates == ["$user_count", "$users"])
        #expect(result.range == 12..<17)
        #expect(complete("echo \"found \\$us").candidates == [])
        #expect(complete("echo 'found $us").candidates == [])
    }

    @Test func filesAfterSourceImportSave() {
        let result = complete("source ")
        #expect(result.candidates == ["\"my file.csv\"", "examples/", "examples/offboard.scim", "notes.csv"])
        #expect(result.position == .file)
        #expect(complete("source ex").candidates == ["examples/", "examples/offboard.scim"])
        #expect(complete("find active eq true | save no").candidates == ["notes.csv"])
        #expect(complete("import my").candidates == ["\"my file.csv\""])
        #expect(complete("import \"my").candidates == ["\"my file.csv\""])
        #expect(complete("import \"my").range == 7..<10)
    }

    @Test func helpTopics() {
        let result = complete("help ")
        #expect(result.candidates == ["filter", "find", "patch", "variables"])
        #expect(result.position == .helpTopic)
        #expect(complete("help fi").candidates == ["filter", "find"])
        #expect(complete("help find ").candidates == [])
    }

    @Test func profileNamesAfterConnect() {
        let result = complete("connect ")
        #expect(result.candidates == ["prod", "prod-eu", "staging"])
        #expect(result.position == .profileName)
        #expect(complete("connect pr").candidates == ["prod", "prod-eu"])
        #expect(complete("connect prod ").candidates == [])
    }

    @Test func setAndUnset() {
        let result = complete("set ")
        #expect(result.candidates == (CompletionContext.settingNames + ["users", "user_count", "admins"]).sorted())
        #expect(result.position == .settingName)
        #expect(complete("set out").candidates == ["output"])
        #expect(complete("set output = ").candidates == ["csv", "json", "jsonl", "table"])
        #expect(complete("set output=js").candidates == ["json", "jsonl"])
        #expect(complete("set on_error = c").candidates == ["continue"])
        #expect(complete("set host = ").candidates == [])
        #expect(complete("unset ").candidates == ["admins", "user_count", "users"])
    }
}

@Suite("Completion: robustness")
struct CompletionRobustnessTests {
    @Test func cursorOutOfBoundsIsClamped() {
        #expect(Completer.complete(line: "fi", cursor: 99, context: context).candidates == ["find", "first"])
        #expect(Completer.complete(line: "fi", cursor: -5, context: context).range == 0..<0)
    }

    @Test func cursorInsideAMultiByteCharacterMovesToItsStart() {
        // "é" is two bytes (1..<3); a cursor at 2 is inside it.
        let result = Completer.complete(line: "xé", cursor: 2, context: context)
        #expect(result.range == 0..<1)
    }

    @Test(arguments: [
        "", " ", "|", "||", ";;", "\"", "'", "$", "${", "${}", "[", "]]", "((", "))", "=", "==", "find [", "find ]",
        "find emails[[", "patch ]=", "let = =", "set = =", "\\", "\\\n", "#", "find \"\\", "\u{0}", "é\u{301}",
        "find userName eq \"bj\" ] ) and [ ( or", "get \"\"\"", "source \"\"", "import '", "select ,,,",
        String(repeating: "find x | ", count: 50), "🙂 find 🙂[🙂 eq \"🙂",
    ])
    func everyCursorOfOddInputIsSafe(line: String) {
        for cursor in -1...(line.utf8.count + 1) {
            let result = Completer.complete(line: line, cursor: cursor, context: context)
            let end = min(max(cursor, 0), line.utf8.count)
            #expect(result.range.upperBound <= end)
            #expect(result.range.lowerBound >= 0)
            #expect(result.candidates == Array(Set(result.candidates)).sorted())
        }
    }

    @Test func directoryListerListsTheFileSystem() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("completion-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("scripts"),
            withIntermediateDirectories: true
        )
        for name in ["scripts/offboard.scim", "scripts/onboard.scim", "users.csv", ".hidden"] {
            try Data().write(to: root.appendingPathComponent(name))
        }
        let lister = CompletionContext.directoryLister(currentDirectory: root.path, homeDirectory: root.path)
        #expect(lister("") == ["scripts/", "users.csv"])
        #expect(lister("s") == ["scripts/"])
        #expect(lister("scripts/o") == ["scripts/offboard.scim", "scripts/onboard.scim"])
        #expect(lister("scripts/of") == ["scripts/offboard.scim"])
        #expect(lister(".h") == [".hidden"])
        #expect(lister("~/u") == ["~/users.csv"])
        #expect(lister(root.path + "/u") == [root.path + "/users.csv"])
        #expect(lister("missing/") == [])
    }
}
