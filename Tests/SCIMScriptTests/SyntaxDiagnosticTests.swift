import SCIMCore
import XCTest

@testable import SCIMScript

/// Every kind of malformed input gets an exact, compiler-style message with its position.
final class SyntaxDiagnosticTests: XCTestCase {
    private func check(
        _ text: String, _ expected: String, code: Diagnostic.Code, incomplete: Bool = false,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        guard let diagnostic = parseError(text, file: file, line: line) else { return }
        XCTAssertEqual(diagnostic.render(), expected, file: file, line: line)
        XCTAssertEqual(diagnostic.code, code, file: file, line: line)
        XCTAssertEqual(diagnostic.isIncompleteInput, incomplete, "isIncompleteInput", file: file, line: line)
        XCTAssertEqual(diagnostic.severity, .error, file: file, line: line)
        if let range = diagnostic.range {
            XCTAssertTrue(range.lowerBound >= 0 && range.upperBound <= text.utf8.count, file: file, line: line)
        } else {
            XCTFail("no range", file: file, line: line)
        }
    }

    // MARK: set / unset / let

    func testSetWithoutEquals() {
        check(
            "set x", "test.scim:1:6: error: expected '=' after 'set x'\n    set x\n         ^\n", code: .expectedEquals)
        check(
            "set x 3", "test.scim:1:7: error: expected '=' after 'set x'\n    set x 3\n          ^\n",
            code: .expectedEquals)
    }

    func testSetWithoutName() {
        check(
            "set = 3", "test.scim:1:5: error: expected a variable name after 'set'\n    set = 3\n        ^\n",
            code: .expectedName)
        check(
            "set", "test.scim:1:4: error: expected a variable name after 'set'\n    set\n       ^\n",
            code: .expectedName)
        check(
            "set $x = 3",
            "test.scim:1:5: error: expected a variable name after 'set' (write 'set x', without '$')\n"
                + "    set $x = 3\n        ^~\n",
            code: .expectedName)
        check(
            "set my-var = 3",
            "test.scim:1:5: error: invalid variable name 'my-var' (use letters, digits and '_', starting with a "
                + "letter or '_')\n    set my-var = 3\n        ^~~~~~\n",
            code: .expectedName)
    }

    func testSetWithoutValue() {
        check(
            "vars\nset x =\nvars",
            "test.scim:2:8: error: expected a value after '='\n    set x =\n           ^\n", code: .expectedValue)
        check(
            "set x = | count", "test.scim:1:9: error: expected a value after '='\n    set x = | count\n            ^\n",
            code: .expectedValue)
    }

    func testSetTooManyValues() {
        check(
            "set name = Barbara Jensen",
            "test.scim:1:20: error: unexpected 'Jensen': 'set' takes a single value (put text with spaces in quotes)\n"
                + "    set name = Barbara Jensen\n                       ^~~~~~\n",
            code: .tooManyValues)
        check(
            "set x = 1 | count",
            "test.scim:1:11: error: unexpected '|': 'set' takes a single value\n    set x = 1 | count\n"
                + "              ^\n",
            code: .tooManyValues)
    }

    func testSecretsAreMaskedInDiagnostics() {
        check(
            "set token = abc def",
            "test.scim:1:17: error: unexpected text: 'set' takes a single value (put text with spaces in quotes)\n"
                + "    set token = *** ***\n                    ^~~\n",
            code: .tooManyValues)
        check(
            "  set api_token=\"abc\"def",
            "test.scim:1:22: error: missing space before text (to join text and variables, write one \"...\" string)\n"
                + "      set api_token=********\n                         ^~~\n",
            code: .missingSpace)
    }

    func testUnsetAndVars() {
        check(
            "unset", "test.scim:1:6: error: expected a variable name after 'unset'\n    unset\n         ^\n",
            code: .expectedName)
        check(
            "unset a b",
            "test.scim:1:9: error: unexpected 'b': 'unset' takes one variable name\n    unset a b\n"
                + "            ^\n", code: .tooManyValues)
        check(
            "vars all",
            "test.scim:1:6: error: unexpected 'all': 'vars' takes no arguments\n    vars all\n"
                + "         ^~~\n", code: .tooManyValues)
        check(
            "vars | count",
            "test.scim:1:6: error: unexpected '|': 'vars' takes no arguments\n    vars | count\n"
                + "         ^\n", code: .tooManyValues)
    }

    func testLetErrors() {
        check(
            "let x", "test.scim:1:6: error: expected '=' after 'let x'\n    let x\n         ^\n", code: .expectedEquals)
        check(
            "let x find", "test.scim:1:7: error: expected '=' after 'let x'\n    let x find\n          ^~~~\n",
            code: .expectedEquals)
        check(
            "let x =", "test.scim:1:8: error: expected a pipeline after 'let x ='\n    let x =\n           ^\n",
            code: .expectedCommand)
        check(
            "let = find", "test.scim:1:5: error: expected a variable name after 'let'\n    let = find\n        ^\n",
            code: .expectedName)
        check(
            "let x = | count",
            "test.scim:1:9: error: expected a command before '|'\n    let x = | count\n"
                + "            ^\n", code: .expectedCommand)
    }

    func testOtherStatementErrors() {
        check(
            "source", "test.scim:1:7: error: expected a file name after 'source'\n    source\n          ^\n",
            code: .expectedValue)
        check(
            "source a b",
            "test.scim:1:10: error: unexpected 'b': 'source' takes one file name\n    source a b\n"
                + "             ^\n", code: .tooManyValues)
        check(
            "help a b",
            "test.scim:1:8: error: unexpected 'b': 'help' takes at most one topic\n    help a b\n"
                + "           ^\n", code: .tooManyValues)
        check(
            "explain", "test.scim:1:8: error: expected a pipeline after 'explain'\n    explain\n           ^\n",
            code: .expectedCommand)
        check(
            "echo a | count",
            "test.scim:1:8: error: unexpected '|': 'echo' cannot be used in a pipeline\n"
                + "    echo a | count\n           ^\n", code: .unexpectedToken)
    }

    // MARK: pipelines

    func testStrayPipes() {
        check(
            "| find", "test.scim:1:1: error: expected a command before '|'\n    | find\n    ^\n", code: .expectedCommand
        )
        check(
            "find | | count", "test.scim:1:6: error: expected a command after '|'\n    find | | count\n         ^\n",
            code: .expectedCommand)
        check(
            "find |; count", "test.scim:1:6: error: expected a command after '|'\n    find |; count\n         ^\n",
            code: .expectedCommand)
        check(
            "explain | x", "test.scim:1:9: error: expected a command before '|'\n    explain | x\n            ^\n",
            code: .expectedCommand)
    }

    func testTrailingPipeIsIncomplete() {
        check(
            "find active eq true |",
            "test.scim:1:21: error: expected a command after '|'\n    find active eq true |\n"
                + "                        ^\n",
            code: .unexpectedEndOfInput, incomplete: true)
        check(
            "find |  # more to come\n\n",
            "test.scim:1:6: error: expected a command after '|'\n    find |  # more to come\n         ^\n",
            code: .unexpectedEndOfInput, incomplete: true)
    }

    func testBadStageStarts() {
        check(
            "find | $users",
            "test.scim:1:8: error: expected a command, found '$users' (a variable can only start a "
                + "pipeline)\n    find | $users\n           ^~~~~~\n", code: .expectedCommand)
        check(
            "\"find\" x", "test.scim:1:1: error: expected a command, found a string\n    \"find\" x\n    ^~~~~~\n",
            code: .expectedCommand)
        check(
            "$env.X", "test.scim:1:1: error: expected a command, found '$env.X'\n    $env.X\n    ^~~~~~\n",
            code: .expectedCommand)
        check(
            "$users x",
            "test.scim:1:8: error: unexpected 'x': '$users' as the first stage takes no arguments\n"
                + "    $users x\n           ^\n", code: .unexpectedToken)
        check(
            "name = 3",
            "test.scim:1:6: error: unexpected '=' (to set a variable, write 'set name = ...')\n"
                + "    name = 3\n         ^\n", code: .unexpectedToken)
    }

    // MARK: arguments

    func testAssignmentErrors() {
        check(
            "patch displayName = x",
            "test.scim:1:19: error: unexpected '=' (write ATTR=VALUE without spaces around "
                + "'=')\n    patch displayName = x\n                      ^\n", code: .unexpectedToken)
        check(
            "patch displayName= x",
            "test.scim:1:20: error: expected a value after 'displayName=' (no spaces around "
                + "'=')\n    patch displayName= x\n                       ^\n", code: .expectedValue)
        check(
            "patch displayName=",
            "test.scim:1:19: error: expected a value after 'displayName='\n"
                + "    patch displayName=\n                      ^\n", code: .expectedValue)
        check(
            "patch displayName=|x",
            "test.scim:1:19: error: expected a value after 'displayName='\n"
                + "    patch displayName=|x\n                      ^\n", code: .expectedValue)
    }

    func testMissingSpace() {
        check(
            "create email=$user@example.com",
            "test.scim:1:19: error: missing space before '@example.com' (to join text and variables, write one "
                + "\"...\" string)\n    create email=$user@example.com\n                      ^~~~~~~~~~~~\n",
            code: .missingSpace)
        check(
            "echo \"a\"'b'",
            "test.scim:1:9: error: missing space before a string (to join text and variables, "
                + "write one \"...\" string)\n    echo \"a\"'b'\n            ^~~\n", code: .missingSpace)
        check(
            "get --verbose\"x\"",
            "test.scim:1:14: error: missing space after '--verbose'\n"
                + "    get --verbose\"x\"\n                 ^\n", code: .missingSpace)
    }

    func testFlagErrors() {
        check(
            "find --limit",
            "test.scim:1:13: error: expected a value after '--limit'\n    find --limit\n"
                + "                ^\n", code: .expectedValue)
        check(
            "find --limit --all",
            "test.scim:1:14: error: expected a value after '--limit'\n"
                + "    find --limit --all\n                 ^~~~~\n", code: .expectedValue)
        check(
            "get --format= x",
            "test.scim:1:15: error: expected a value after '--format='\n    get --format= x\n"
                + "                  ^\n", code: .expectedValue)
        check(
            "find --limit 5 a pr --all x",
            "test.scim:1:27: error: unexpected 'x' after the flags of 'find' (write "
                + "the filter before or after all flags)\n    find --limit 5 a pr --all x\n"
                + "                              ^\n", code: .unexpectedToken)
    }

    func testUnexpectedCharacters() {
        check(
            "patch (x)",
            "test.scim:1:7: error: unexpected '(' (put text with special characters in quotes)\n"
                + "    patch (x)\n          ^\n", code: .unexpectedCharacter)
        // `<`, `<=`, `>`, `>=`, `==` standing alone are words (for `expect <= 40`); glued to text they are errors.
        check(
            "count >out.csv",
            "test.scim:1:7: error: unexpected '>' (put text with special characters in quotes)\n"
                + "    count >out.csv\n          ^\n", code: .unexpectedCharacter)
        check(
            "echo a \\ b",
            "test.scim:1:8: error: unexpected '\\' (a '\\' continues a line only at the end of it)\n"
                + "    echo a \\ b\n           ^\n", code: .unexpectedCharacter)
        check(
            "echo \u{7}",
            "test.scim:1:6: error: unexpected control character U+0007 (put text with special "
                + "characters in quotes)\n    echo \u{7}\n         ^\n", code: .unexpectedCharacter)
    }

    // MARK: strings and variables

    func testUnterminatedStrings() {
        check(
            "echo \"abc", "test.scim:1:6: error: unterminated string (started here)\n    echo \"abc\n         ^\n",
            code: .unterminatedString, incomplete: true)
        check(
            "echo 'abc\ndef", "test.scim:1:6: error: unterminated string (started here)\n    echo 'abc\n         ^\n",
            code: .unterminatedString, incomplete: true)
        check(
            "echo \"abc\\", "test.scim:1:6: error: unterminated string (started here)\n    echo \"abc\\\n         ^\n",
            code: .unterminatedString, incomplete: true)
        check(
            "vars\n  set x = \"a\\\"",
            "test.scim:2:11: error: unterminated string (started here)\n"
                + "      set x = \"a\\\"\n              ^\n", code: .unterminatedString, incomplete: true)
    }

    func testUnknownEscapes() {
        check(
            #"echo "a\qb""#,
            "test.scim:1:8: error: unknown escape '\\q' in string\n    echo \"a\\qb\"\n           ^~\n",
            code: .unknownEscape)
        check(
            #"echo "日\本""#,
            "test.scim:1:8: error: unknown escape '\\本' in string\n    echo \"日\\本\"\n"
                + "           ^~\n", code: .unknownEscape)
        check(
            #"echo "\u00e9""#,
            "test.scim:1:7: error: unknown escape '\\u' in string\n    echo \"\\u00e9\"\n"
                + "          ^~\n", code: .unknownEscape)
    }

    func testBadVariables() {
        check(
            "echo \"${name\"",
            "test.scim:1:7: error: unclosed '${' (expected '}')\n    echo \"${name\"\n"
                + "          ^~\n", code: .unclosedBrace)
        check(
            "echo ${name", "test.scim:1:6: error: unclosed '${' (expected '}')\n    echo ${name\n         ^~\n",
            code: .unclosedBrace)
        check(
            "echo ${}", "test.scim:1:6: error: expected a variable name in '${}'\n    echo ${}\n         ^~~\n",
            code: .invalidVariable)
        check(
            "echo ${a b}",
            "test.scim:1:6: error: invalid variable name 'a b' in '${...}'\n    echo ${a b}\n"
                + "         ^~~~~~\n", code: .invalidVariable)
        check(
            "echo $",
            "test.scim:1:6: error: expected a variable name after '$' (put a literal '$' in single "
                + "quotes)\n    echo $\n         ^\n", code: .invalidVariable)
        check(
            "echo \"costs $ 5\"",
            "test.scim:1:13: error: expected a variable name after '$' (write '\\$' for a "
                + "literal '$')\n    echo \"costs $ 5\"\n                ^\n", code: .invalidVariable)
        check(
            "echo $env.",
            "test.scim:1:6: error: expected an environment variable name after '$env.'\n"
                + "    echo $env.\n         ^~~~~\n", code: .invalidVariable)
    }

    // MARK: continuation

    func testTrailingBackslashIsIncomplete() {
        check(
            "find a pr \\",
            "test.scim:1:11: error: unexpected end of input after '\\'\n    find a pr \\\n"
                + "              ^\n", code: .unexpectedEndOfInput, incomplete: true)
        check(
            "create x=1 \\  ",
            "test.scim:1:12: error: unexpected end of input after '\\'\n    create x=1 \\  \n"
                + "               ^\n", code: .unexpectedEndOfInput, incomplete: true)
    }

    // MARK: filters

    /// The message FilterParser gives for `filter` (so these tests check the mapping, not the filter parser's words).
    private func filterMessage(_ filter: String) -> String {
        do {
            _ = try FilterParser.parse(filter, allowVariables: true)
            XCTFail("filter parsed: \(filter)")
            return ""
        } catch {
            return error.message
        }
    }

    func testFilterErrorsMapToFilePositions() {
        check(
            "vars\nfind --limit 5 userName eq | count",
            "test.scim:2:27: error: \(filterMessage("userName eq"))\n    find --limit 5 userName eq | count\n"
                + "                              ^\n",
            code: .invalidFilter)
        check(
            "where displayName xx \"a\"",
            "test.scim:1:19: error: \(filterMessage("displayName xx \"a\""))\n    where displayName xx \"a\"\n"
                + "                      ^~\n",
            code: .invalidFilter)
        check(
            "find > out.csv", "test.scim:1:6: error: \(filterMessage("> out.csv"))\n    find > out.csv\n         ^\n",
            code: .invalidFilter)
        check(
            "where a eq 1 bogus",
            "test.scim:1:14: error: \(filterMessage("a eq 1 bogus"))\n    where a eq 1 bogus\n"
                + "                 ^~~~~\n", code: .invalidFilter)
    }

    func testFilterErrorAfterContinuationKeepsColumns() {
        check(
            "find active eq true and \\\n  userName zz 1",
            "test.scim:2:12: error: \(filterMessage("active eq true and     userName zz 1"))\n      userName zz 1\n"
                + "               ^~\n",
            code: .invalidFilter)
    }

    func testUnclosedBracketsInFiltersAreIncompleteButOpenFilterStringsAreNot() {
        check(
            "find (active eq true",
            "test.scim:1:6: error: unclosed '(' in filter\n    find (active eq true\n"
                + "         ^\n", code: .unclosedBracket, incomplete: true)
        check(
            "where emails[type eq \"work\"\n",
            "test.scim:1:13: error: unclosed '[' in filter\n"
                + "    where emails[type eq \"work\"\n                ^\n", code: .unclosedBracket, incomplete: true)
        check(
            "find userName eq \"a|b",
            "test.scim:1:18: error: unterminated string (started here)\n"
                + "    find userName eq \"a|b\n                     ^\n", code: .unterminatedString)
        check(
            "where a eq \"b\nc\" | count",
            "test.scim:1:12: error: unterminated string (started here)\n    where a eq \"b\n               ^\n",
            code: .unterminatedString)
    }

    // MARK: rendering

    func testRenderUsesFileNameAndLaterLines() {
        XCTAssertEqual(
            renderedError("set output = json\n\n# comment\n\tfind | | x", name: "offboard.scim"),
            "offboard.scim:4:7: error: expected a command after '|'\n    \tfind | | x\n    \t     ^\n")
    }

    func testRenderCountsCharactersNotBytes() {
        XCTAssertEqual(
            renderedError("echo \"🙂 é\" \"日本\"x"),
            "test.scim:1:16: error: missing space before 'x' (to join text and variables, write one \"...\" string)\n"
                + "    echo \"🙂 é\" \"日本\"x\n                   ^\n")
    }

    func testRenderWithoutLocation() {
        XCTAssertEqual(Diagnostic.error("no host set").render(), "error: no host set\n")
        XCTAssertEqual(Diagnostic.warning("careful").render(), "warning: careful\n")
        XCTAssertEqual(
            Diagnostic.note("see here", in: SourceFile(name: "<stdin>", text: "x")).render(),
            "<stdin>: note: see here\n")
        XCTAssertEqual(Diagnostic.error("x", at: SourceRange(lowerBound: 0, upperBound: 1)).render(), "error: x\n")
    }

    func testRenderMultiLineRangeStopsAtEndOfLine() {
        let file = SourceFile(name: "f", text: "abc def\nghi")
        let diagnostic = Diagnostic.error("whole thing", at: SourceRange(lowerBound: 4, upperBound: 11), in: file)
        XCTAssertEqual(diagnostic.render(), "f:1:5: error: whole thing\n    abc def\n        ^~~\n")
    }

    func testRenderRangeAtEndOfText() {
        let file = SourceFile(name: "f", text: "ab\n")
        XCTAssertEqual(
            Diagnostic.error("end", at: .at(3), in: file).render(), "f:2:1: error: end\n    \n    ^\n")
        XCTAssertEqual(
            Diagnostic.error("far", at: SourceRange(lowerBound: 90, upperBound: 99), in: file).render(),
            "f:2:1: error: far\n    \n    ^\n")
    }

    func testRenderWithColor() {
        let diagnostic = Diagnostic.error(
            "bad", at: SourceRange(lowerBound: 0, upperBound: 2),
            in: SourceFile(
                name: "f", text: "ab"))
        XCTAssertEqual(
            diagnostic.render(color: true),
            "\u{1B}[1mf:1:1:\u{1B}[0m \u{1B}[1;31merror:\u{1B}[0m \u{1B}[1mbad\u{1B}[0m\n    ab\n"
                + "    \u{1B}[1;31m^~\u{1B}[0m\n")
        XCTAssertFalse(diagnostic.render().contains("\u{1B}"))
        XCTAssertEqual(diagnostic.description, diagnostic.render())
    }
}
