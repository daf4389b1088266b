import SCIMCore
import XCTest

@testable import SCIMScript

/// Well-formed scripts parse into the expected statements, stages, arguments and values.
final class SyntaxParserTests: XCTestCase {
    func testSimplePipeline() {
        XCTAssertEqual(
            dump(#"find userName eq "bjensen" | patch active=false"#),
            #"find{userName eq "bjensen"} | patch[active=false]"#)
    }

    func testStatementsEndAtNewlineAndSemicolon() {
        XCTAssertEqual(dump("vars; unset x\nvars ;; \n\n help"), "vars\nunset x\nvars\nhelp(nil)")
    }

    func testEmptyAndCommentOnlyScripts() {
        XCTAssertEqual(dump(""), "")
        XCTAssertEqual(dump("\n\n  # just a comment\n;;\n"), "")
    }

    func testComments() {
        XCTAssertEqual(
            dump("# header\nfind active eq true # only active\n  # indented\nvars"),
            "find{active eq true}\nvars")
        XCTAssertEqual(dump(##"echo "# not a comment" '#' # a comment"##), ##"echo("# not a comment", r'#')"##)
        XCTAssertEqual(dump("get abc#def"), "get[w:abc]")
    }

    func testSetForms() {
        XCTAssertEqual(dump("set x = 3"), "set x = #3")
        XCTAssertEqual(dump("set x=3"), "set x = #3")
        XCTAssertEqual(dump("set x =3"), "set x = #3")
        XCTAssertEqual(dump("set x= 3"), "set x = #3")
        XCTAssertEqual(dump("set host = https://odm.example.com:8443"), "set host = w:https://odm.example.com:8443")
        XCTAssertEqual(dump("set url = http://h/p?a=b&c"), "set url = w:http://h/p?a=b&c")
    }

    func testSetValueKinds() {
        XCTAssertEqual(dump("set a = true"), "set a = true")
        XCTAssertEqual(dump("set a = null"), "set a = null")
        XCTAssertEqual(dump("set a = -1.5e3"), "set a = #-1500")
        XCTAssertEqual(dump("set a = 007"), "set a = w:007")
        XCTAssertEqual(dump("set a = $b"), "set a = $b")
        XCTAssertEqual(dump("set a = ${b}"), "set a = $b")
        XCTAssertEqual(dump("set a = $env.HOME"), "set a = $env.HOME")
        XCTAssertEqual(dump("set a = ${env.HOME}"), "set a = $env.HOME")
        XCTAssertEqual(dump("set a = $1"), "set a = $1")
        XCTAssertEqual(dump(#"set a = "x y""#), #"set a = "x y""#)
        XCTAssertEqual(dump("set a = 'x $y'"), "set a = r'x $y'")
        XCTAssertEqual(dump("set output = json"), "set output = w:json")
    }

    func testSetRanges() throws {
        let script = try testParser.parse(SourceFile(name: "t", text: "  set  name = \"v\""))
        let statement = try XCTUnwrap(script.statements.first)
        guard case .set(_, let nameRange, let value) = statement.kind else { return XCTFail("not a set") }
        XCTAssertEqual(nameRange, SourceRange(lowerBound: 7, upperBound: 11))
        XCTAssertEqual(value.range, SourceRange(lowerBound: 14, upperBound: 17))
        XCTAssertEqual(statement.range, SourceRange(lowerBound: 2, upperBound: 17))
        XCTAssertEqual(statement.text, "set  name = \"v\"")
    }

    func testOtherStatements() {
        XCTAssertEqual(dump("unset token"), "unset token")
        XCTAssertEqual(dump("vars"), "vars")
        XCTAssertEqual(dump("source ./offboard.scim"), "source w:./offboard.scim")
        XCTAssertEqual(dump(#"source "$dir/x.scim""#), #"source "${dir}/x.scim""#)
        XCTAssertEqual(dump("help"), "help(nil)")
        XCTAssertEqual(dump("help find"), "help(find)")
        XCTAssertEqual(dump("help 'find'"), "help(find)")
        XCTAssertEqual(dump("explain find active eq true | delete"), "explain find{active eq true} | delete")
        XCTAssertEqual(dump("echo"), "echo()")
        XCTAssertEqual(
            dump(#"echo done: "$n users" 5 a=b = --x"#), #"echo(w:done:, "${n} users", #5, w:a=b, w:=, w:--x)"#)
    }

    func testLetAndVariableSource() {
        XCTAssertEqual(
            dump("let inactive = find active eq false\n$inactive | select id emails.value"),
            "let inactive = find{active eq false}\n$inactive | select[w:id, w:emails.value]")
        XCTAssertEqual(dump("${users} | count"), "$users | count")
        XCTAssertEqual(dump("$users"), "$users")
        XCTAssertEqual(dump("let a = $b | where active eq true"), "let a = $b | where{active eq true}")
    }

    func testVariableSourceStage() throws {
        let script = try testParser.parse(SourceFile(name: "t", text: "$users | count"))
        guard case .pipeline(let pipeline) = script.statements.first?.kind else { return XCTFail("no pipeline") }
        let stage = try XCTUnwrap(pipeline.stages.first)
        XCTAssertTrue(stage.isVariableSource)
        XCTAssertEqual(stage.name, "users")
        XCTAssertEqual(stage.nameRange, SourceRange(lowerBound: 0, upperBound: 6))
        XCTAssertFalse(pipeline.stages[1].isVariableSource)
        XCTAssertEqual(pipeline.range, SourceRange(lowerBound: 0, upperBound: 14))
    }

    func testBareWords() {
        XCTAssertEqual(
            dump("get bjensen@example.com ./users.csv 2819c223-7f76-453a-919d-413861904646 a+b,c:d ~/x é日本 🙂"),
            "get[w:bjensen@example.com, w:./users.csv, w:2819c223-7f76-453a-919d-413861904646, w:a+b,c:d, w:~/x, "
                + "w:é日本, w:🙂]")
    }

    func testNumbersAndLiterals() {
        XCTAssertEqual(
            dump(
                "first 10 -3 0.5 1e3 1E+2 -0 01 1. .5 1e 12345678901234567890 9007199254740993 123456789012 1e999 "
                    + "true False"),
            "first[#10, #-3, #0.5, #1000, #100, #0, w:01, w:1., w:.5, w:1e, w:12345678901234567890, "
                + "w:9007199254740993, #123456789012, w:1e999, true, w:False]")
    }

    func testAssignments() {
        XCTAssertEqual(
            dump(#"create userName=bjensen displayName="Barbara Jensen" email=bjensen@example.com active=true n=1"#),
            #"create[userName=w:bjensen, displayName="Barbara Jensen", email=w:bjensen@example.com, active=true, "#
                + "n=#1]")
        XCTAssertEqual(
            dump("patch name.givenName=$first title='a=b' x=a=b"),
            "patch[name.givenName=$first, title=r'a=b', x=w:a=b]")
        XCTAssertEqual(
            dump(#"patch displayName="B. Jensen" remove externalId"#),
            #"patch[displayName="B. Jensen", w:remove, w:externalId]"#)
    }

    func testArgumentRanges() throws {
        let text = #"patch displayName="B" --force x"#
        let script = try testParser.parse(SourceFile(name: "t", text: text))
        guard case .pipeline(let pipeline) = script.statements.first?.kind else { return XCTFail("no pipeline") }
        let stage = try XCTUnwrap(pipeline.stages.first)
        XCTAssertEqual(stage.nameRange, SourceRange(lowerBound: 0, upperBound: 5))
        XCTAssertEqual(stage.range, SourceRange(lowerBound: 0, upperBound: 31))
        XCTAssertEqual(
            stage.arguments.map(\.range),
            [
                SourceRange(lowerBound: 6, upperBound: 21), SourceRange(lowerBound: 22, upperBound: 29),
                SourceRange(lowerBound: 30, upperBound: 31),
            ])
    }

    func testFlags() {
        XCTAssertEqual(dump("get a --format json --verbose b"), "get[w:a, --format=w:json, --verbose, w:b]")
        XCTAssertEqual(dump("get --format=csv --x=1 --y"), "get[--format=w:csv, --x=#1, --y]")
        XCTAssertEqual(dump("delete -- -n"), "delete[w:--, w:-n]")
        XCTAssertEqual(dump("get --format $fmt"), "get[--format=$fmt]")
    }

    func testFilterStageFlags() {
        XCTAssertEqual(dump("find --limit 5 active eq true"), "find{active eq true}[--limit=#5]")
        XCTAssertEqual(dump("find --limit=5 active eq true"), "find{active eq true}[--limit=#5]")
        XCTAssertEqual(dump("find active eq true --limit 5"), "find{active eq true}[--limit=#5]")
        XCTAssertEqual(dump("find --all (active eq true)"), "find{active eq true}[--all]")
        XCTAssertEqual(dump("find --limit 5"), "find[--limit=#5]")
        XCTAssertEqual(dump("find --limit $n"), "find[--limit=$n]")
        XCTAssertEqual(dump("find"), "find")
        XCTAssertEqual(dump("find | count"), "find | count")
        XCTAssertEqual(dump("find   # comment"), "find")
        XCTAssertEqual(dump(#"find a eq "--limit 5""#), #"find{a eq "--limit 5"}"#)
        XCTAssertEqual(dump(#"find a-b eq 1"#), #"find{a-b eq 1}"#)
    }

    func testFilterStageRanges() throws {
        let text = "find --limit 5  userName eq \"x\"   | count"
        let script = try testParser.parse(SourceFile(name: "t", text: text))
        guard case .pipeline(let pipeline) = script.statements.first?.kind else { return XCTFail("no pipeline") }
        let stage = try XCTUnwrap(pipeline.stages.first)
        XCTAssertEqual(stage.filterText, #"userName eq "x""#)
        XCTAssertEqual(stage.filterRange, SourceRange(lowerBound: 16, upperBound: 31))
        XCTAssertEqual(stage.range, SourceRange(lowerBound: 0, upperBound: 31))
        XCTAssertEqual(stage.arguments.first?.range, SourceRange(lowerBound: 5, upperBound: 14))
        XCTAssertEqual(
            stage.filter,
            .compare(AttributePath(name: "userName"), .eq, .literal(.string("x"))))
        XCTAssertEqual(pipeline.stages[1].nameRange, SourceRange(lowerBound: 36, upperBound: 41))
    }

    func testFilterWithPipesAndSemicolonsInStrings() {
        XCTAssertEqual(
            dump(##"where displayName co "a|b;c#d" and emails[type eq "work" or value co "|"] | count"##),
            ##"where{displayName co "a|b;c#d" and emails[type eq "work" or value co "|"]} | count"##)
        XCTAssertEqual(
            dump(#"where displayName eq "say \"|\"" | count"#), #"where{displayName eq "say \"|\""} | count"#)
    }

    func testFilterEndsAtSemicolonAndComment() {
        XCTAssertEqual(dump("where active eq true; count"), "where{active eq true}\ncount")
        XCTAssertEqual(dump("where active eq true # trailing\ncount"), "where{active eq true}\ncount")
    }

    func testFilterSpanningLinesInBrackets() {
        XCTAssertEqual(
            dump("find (userName eq \"a\" or\n      userName eq \"b\") | count"),
            #"find{userName eq "a" or userName eq "b"} | count"#)
        XCTAssertEqual(
            dump("find emails[type eq \"work\" and\n value ew \"@x.org\"]"),
            #"find{emails[type eq "work" and value ew "@x.org"]}"#)
    }

    func testFilterLineContinuation() throws {
        let text = "find active eq true and \\\n  userName sw \"b\" | count"
        XCTAssertEqual(dump(text), #"find{active eq true and userName sw "b"} | count"#)
        let script = try testParser.parse(SourceFile(name: "t", text: text))
        guard case .pipeline(let pipeline) = script.statements.first?.kind else { return XCTFail("no pipeline") }
        XCTAssertEqual(pipeline.stages.first?.filterText, "active eq true and     userName sw \"b\"")
        XCTAssertEqual(pipeline.stages.first?.filterText?.utf8.count, pipeline.stages.first?.filterRange?.count)
    }

    func testVariablesInFilters() {
        XCTAssertEqual(
            dump("find userName eq $login or externalId eq ${id}"),
            "find{userName eq $login or externalId eq $id}")
        XCTAssertEqual(dump("let l = find userName sw $prefix"), "let l = find{userName sw $prefix}")
    }

    func testContinuationAfterPipe() {
        XCTAssertEqual(
            dump("find active eq true |\n  where displayName pr |   # comment\n\n  count\nvars"),
            "find{active eq true} | where{displayName pr} | count\nvars")
    }

    func testContinuationWithBackslash() throws {
        let text = "create userName=bjensen \\\n   displayName=\"B\" \\  \n  active=false\nvars"
        XCTAssertEqual(dump(text), #"create[userName=w:bjensen, displayName="B", active=false]"# + "\nvars")
        let script = try testParser.parse(SourceFile(name: "t", text: text))
        XCTAssertEqual(
            script.statements.first?.text, "create userName=bjensen \\\n   displayName=\"B\" \\  \n  active=false")
    }

    func testCRLF() {
        XCTAssertEqual(dump("set x = 1\r\nfind a eq 1 |\r\n count\r\n"), "set x = #1\nfind{a eq 1} | count")
    }

    func testStringEscapesAndInterpolation() {
        XCTAssertEqual(dump(#"echo "a\"b\\c\td\$e""#), "echo(\"a\"b\\c\td$e\")")
        XCTAssertEqual(dump(#"echo "x\ny""#), "echo(\"x\ny\")")
        XCTAssertEqual(
            dump(#"echo "hi $name!" "${a}${b}" "$env.HOME/x" "${env.USER}" "$1st""#),
            #"echo("hi ${name}!", "${a}${b}", "${env.HOME}/x", "${env.USER}", "${1}st")"#)
        XCTAssertEqual(dump(#"echo "" ''"#), #"echo("", r'')"#)
        XCTAssertEqual(dump("echo \"two\nlines\""), "echo(\"two\nlines\")")
        XCTAssertEqual(dump("echo \"joined \\\nline\""), "echo(\"joined line\")")
    }

    func testStringPartsAndRanges() throws {
        let text = #"echo "a $bc ${d}""#
        let script = try testParser.parse(SourceFile(name: "t", text: text))
        guard case .echo(let values) = script.statements.first?.kind,
            case .string(let parts, let raw, let range) = values.first
        else { return XCTFail("no string") }
        XCTAssertFalse(raw)
        XCTAssertEqual(range, SourceRange(lowerBound: 5, upperBound: 17))
        XCTAssertEqual(
            parts,
            [
                .text("a "), .variable("bc", range: SourceRange(lowerBound: 8, upperBound: 11)), .text(" "),
                .variable("d", range: SourceRange(lowerBound: 12, upperBound: 16)),
            ])
    }

    func testRawStrings() {
        XCTAssertEqual(dump(#"echo 'no $interp \n here' 'it"s'"#), #"echo(r'no $interp \n here', r'it"s')"#)
    }

    func testUnknownCommandsParseAsWords() {
        XCTAssertEqual(dump("fnd userName eq \"x\""), "fnd[w:userName, w:eq, \"x\"]")
        XCTAssertEqual(dump("find | frobnicate --x=1 y"), "find | frobnicate[--x=#1, w:y]")
    }

    func testDefaultParserKnowsFindAndWhere() throws {
        let script = try Parser().parse("find --limit 2 a eq 1 | where b pr")
        guard case .pipeline(let pipeline) = script.statements.first?.kind else { return XCTFail("no pipeline") }
        XCTAssertEqual(pipeline.stages.map(dump), ["find{a eq 1}[--limit=#2]", "where{b pr}"])
        XCTAssertEqual(script.file.name, "<command line>")
    }

    func testLongScript() {
        let text = """
            # offboard.scim — deactivate the logins listed in a CSV
            set output = json
            set page_size = 50; set on_error = continue

            let gone = import ./leavers.csv |
                where active eq true
            $gone | patch active=false \\
                title="left $date" | save ./done.jsonl
            echo "done: $env.USER"
            """
        XCTAssertEqual(
            dump(text),
            """
            set output = w:json
            set page_size = #50
            set on_error = w:continue
            let gone = import[w:./leavers.csv] | where{active eq true}
            $gone | patch[active=false, title="left ${date}"] | save[w:./done.jsonl]
            echo("done: ${env.USER}")
            """)
    }

    /// What a REPL does: while the parser says the input ended too soon, append a newline and the next line.
    func testReplContinuation() {
        let cases: [([String], String)] = [
            (["find active eq true |", "  count"], "find{active eq true} | count"),
            (["echo \"two", "lines\""], "echo(\"two\nlines\")"),
            (["echo 'a", "b'"], "echo(r'a\nb')"),
            (["create userName=x \\", "  active=false"], "create[userName=w:x, active=false]"),
            (["find (userName eq \"a\" or", "userName eq \"b\")"], #"find{userName eq "a" or userName eq "b"}"#),
            (
                ["where emails[type eq \"work\" and", "value pr] | count"],
                #"where{emails[type eq "work" and value pr]} | count"#
            ),
            (["let x = find |", "", "where a pr"], "let x = find | where{a pr}"),
        ]
        for (lines, expected) in cases {
            var text = ""
            var rest = lines[...]
            while let next = rest.popFirst() {
                text += text.isEmpty ? next : "\n" + next
                if !rest.isEmpty {
                    XCTAssertTrue(testParser.needsMoreInput(text), "should want more after \(text.debugDescription)")
                }
            }
            XCTAssertFalse(testParser.needsMoreInput(text))
            XCTAssertEqual(dump(text), expected)
        }
    }

    func testNeedsMoreInput() {
        XCTAssertTrue(testParser.needsMoreInput("find |"))
        XCTAssertTrue(testParser.needsMoreInput("echo \"abc"))
        XCTAssertFalse(testParser.needsMoreInput("echo \"abc\""))
        XCTAssertFalse(testParser.needsMoreInput("set x"))
    }

    func testParseRecoveringCollectsErrors() {
        let (script, diagnostics) = testParser.parseRecovering(
            SourceFile(name: "t", text: "set x\nvars\nset = 1; echo ok\n| x\nunset y"))
        XCTAssertEqual(script.statements.map(dump), ["vars", "echo(w:ok)", "unset y"])
        XCTAssertEqual(
            diagnostics.map(\.message),
            [
                "expected '=' after 'set x'", "expected a variable name after 'set'", "expected a command before '|'",
            ])
        XCTAssertEqual(diagnostics.map { $0.location?.line }, [1, 3, 4])
    }

    func testParseRecoveringStopsAtIncompleteInput() {
        let (script, diagnostics) = testParser.parseRecovering(SourceFile(name: "t", text: "vars\necho \"open\nvars"))
        XCTAssertEqual(script.statements.map(dump), ["vars"])
        XCTAssertEqual(diagnostics.count, 1)
        XCTAssertEqual(diagnostics.first?.isIncompleteInput, true)
    }
}

// MARK: - Helpers shared by the syntax tests

/// The syntax the syntax tests parse with: `find` and `where` filter style, `find --limit N`, `get --format F`.
let testSyntax: @Sendable (String) -> CommandSyntax? = { name in
    switch name {
    case "find": return CommandSyntax(style: .filter, valuedFlags: ["limit"])
    case "where": return CommandSyntax(style: .filter)
    case "get": return CommandSyntax(style: .words, valuedFlags: ["format"])
    case "patch", "create", "delete", "select", "sort", "first", "count", "table", "import", "save":
        return CommandSyntax(style: .words)
    default: return nil
    }
}

let testParser = Parser(syntax: testSyntax)

/// Parses `text` and returns a compact description of every statement, one per line.
func dump(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        let script = try testParser.parse(SourceFile(name: "test.scim", text: text))
        return script.statements.map(dump).joined(separator: "\n")
    } catch {
        XCTFail("unexpected error:\n\(error.render())", file: file, line: line)
        return ""
    }
}

/// Parses `text` expecting an error and returns it rendered.
func renderedError(_ text: String, name: String = "test.scim", file: StaticString = #filePath, line: UInt = #line)
    -> String
{
    do {
        let script = try testParser.parse(SourceFile(name: name, text: text))
        XCTFail("expected an error, got: \(script.statements.map(dump))", file: file, line: line)
        return ""
    } catch {
        return error.render()
    }
}

/// Parses `text` expecting an error and returns it.
func parseError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Diagnostic? {
    do {
        _ = try testParser.parse(SourceFile(name: "test.scim", text: text))
        XCTFail("expected an error", file: file, line: line)
        return nil
    } catch {
        return error
    }
}

func dump(_ statement: Statement) -> String {
    switch statement.kind {
    case .set(let name, _, let value): return "set \(name) = \(dump(value))"
    case .unset(let name, _): return "unset \(name)"
    case .vars: return "vars"
    case .letBinding(let name, _, let pipeline): return "let \(name) = \(dump(pipeline))"
    case .source(let path): return "source \(dump(path))"
    case .echo(let values): return "echo(\(values.map(dump).joined(separator: ", ")))"
    case .help(let topic): return "help(\(topic ?? "nil"))"
    case .explain(let pipeline): return "explain \(dump(pipeline))"
    case .pipeline(let pipeline): return dump(pipeline)
    }
}

func dump(_ pipeline: Pipeline) -> String {
    pipeline.stages.map(dump).joined(separator: " | ")
}

func dump(_ stage: Stage) -> String {
    if stage.isVariableSource { return "$\(stage.name)" }
    var s = stage.name
    if let filter = stage.filter { s += "{\(filter)}" }
    if !stage.arguments.isEmpty { s += "[" + stage.arguments.map(dump).joined(separator: ", ") + "]" }
    return s
}

func dump(_ argument: Argument) -> String {
    switch argument.kind {
    case .positional(let value): return dump(value)
    case .assignment(let name, let value): return "\(name)=\(dump(value))"
    case .flag(let name, let value): return "--\(name)" + (value.map { "=" + dump($0) } ?? "")
    }
}

func dump(_ expr: Expr) -> String {
    switch expr {
    case .literal(let value, _):
        if case .number(let n) = value { return "#" + JSONValue.formatNumber(n) }
        return value.isNull ? "null" : value.displayString
    case .bareWord(let word, _): return "w:" + word
    case .string(let parts, let raw, _):
        let body = parts.map { part -> String in
            switch part {
            case .text(let text): return text
            case .variable(let name, _): return "${\(name)}"
            case .env(let name, _): return "${env.\(name)}"
            }
        }.joined()
        return raw ? "r'\(body)'" : "\"\(body)\""
    case .variable(let name, _): return "$" + name
    case .env(let name, _): return "$env." + name
    }
}
