import SCIMCore
import SCIMTestSupport
import XCTest

@testable import SCIMScript

/// Thousands of random and mutated inputs: each parses or throws a diagnostic inside the text; none traps.
final class ParserFuzzTests: XCTestCase {
    static let seeds: [String] = [
        #"find userName eq "bjensen" | patch active=false"#,
        "set x = 3; set y=\"a $x ${y} $env.HOME \\$ \\n\" ; set z='raw $x'",
        "find --limit 5 active eq true | first 3 # comment\nunset x\nvars",
        "find active eq true |\n  patch displayName=\"B\" remove externalId\\\n  email=a@b.c",
        #"where displayName co "a|b" and emails[type eq "work" or value co "|"] | count"#,
        "let u = find userName sw $prefix\n$u | select id emails.value | sort meta.created desc",
        "echo hello \"world $x\" 5 a=b = --x\nhelp; help find; explain find a eq 1 | delete",
        "source ./x.scim; get 2819c223-7f76-453a-919d-413861904646 --format json -v",
        "find (a eq 1 or\n b eq 2) --limit $n | save ./out.jsonl",
        "create userName=bjensen displayName=\"Barbara Jensen\" email=bjensen@example.com n=-1.5e3",
        "import ./users.csv | where not (active eq false) | create\n$1 | delete",
        "set token = 's3cr3t'\nfind emails[value ew \"@example.com\"].value pr | json",
    ]

    /// Characters that matter to the lexer, plus non-ASCII, emoji and control characters.
    static let alphabet: [Character] = [
        "\"", "'", "|", "$", "{", "}", "\\", "#", ";", "=", "(", ")", "[", "]", "-", "\n", "\r\n", "\t", " ", "a",
        "Z", "0", "9", ".", "@", "/", ":", "é", "日", "🙂", "👩‍💻", "e\u{301}", "\u{0}", "\u{7}", "\u{7F}", "\u{FFFD}",
        "<", ">", "&", "`", "!", "*", "~", ",", "+",
    ]

    static let words: [String] = [
        "find", "where", "set", "let", "unset", "vars", "echo", "help", "explain", "source", "patch", "create", "|",
        "|\n", ";", "\n", "=", "x", "$x", "${x}", "${", "$env.HOME", "$1", "\"a b\"", "\"$x\"", "'raw'", "\"", "'",
        "--limit", "--limit=5", "5", "true", "eq", "and", "or", "not", "(", ")", "[", "]", "pr", "userName",
        "emails[type eq \"work\"]", "\\", "\\\n", "#c", "a=b", "🙂", "é", "\"\\q\"",
    ]

    func testMutatedScripts() {
        var rng = SeededGenerator(seed: 0x5C13_5C13)
        var count = 0
        for _ in 0..<400 {
            for seed in ParserFuzzTests.seeds {
                var characters = Array(seed)
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    mutate(&characters, using: &rng)
                }
                check(String(characters))
                count += 1
            }
        }
        XCTAssertEqual(count, 4800)
    }

    func testRandomLines() {
        var rng = SeededGenerator(seed: 42)
        for _ in 0..<2000 {
            var line = ""
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                if Bool.random(using: &rng) {
                    line += ParserFuzzTests.words.randomElement(using: &rng) ?? ""
                    line += Bool.random(using: &rng) ? " " : ""
                } else if let c = ParserFuzzTests.alphabet.randomElement(using: &rng) {
                    line.append(c)
                }
            }
            check(line)
        }
    }

    func testRandomBytes() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<1000 {
            let bytes = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            check(String(decoding: bytes, as: UTF8.self))
            let ascii = bytes.map { $0 & 0x7F }
            check(String(decoding: ascii, as: UTF8.self))
        }
    }

    func testEveryPrefixOfEverySeed() {
        for seed in ParserFuzzTests.seeds {
            let characters = Array(seed)
            for end in 0...characters.count {
                check(String(characters[0..<end]))
            }
        }
    }

    func testHostileSizes() {
        check("find " + String(repeating: "(", count: 5000))
        check("find " + String(repeating: "(", count: 3000) + "a pr" + String(repeating: ")", count: 3000))
        check("find " + String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000))
        check(String(repeating: "find | ", count: 2000) + "count")
        check(String(repeating: "echo \"$x\" ", count: 2000))
        check(String(repeating: "a", count: 100_000))
        check(String(repeating: "\\\n", count: 5000) + "vars")
        check(String(repeating: "|", count: 1000))
        check(String(repeating: "\"", count: 1001))
        check(String(repeating: "${", count: 1000))
        check(String(repeating: ";\n", count: 5000))
    }

    // MARK: Helpers

    private func mutate(_ characters: inout [Character], using rng: inout SeededGenerator) {
        let index = characters.isEmpty ? 0 : Int.random(in: 0..<characters.count, using: &rng)
        let random = ParserFuzzTests.alphabet.randomElement(using: &rng) ?? "x"
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:
            if !characters.isEmpty { characters.remove(at: index) }
        case 1:
            characters.insert(random, at: index)
        case 2:
            if !characters.isEmpty { characters.insert(characters[index], at: index) }
        case 3:
            if !characters.isEmpty { characters[index] = random }
        default:
            // Duplicate or drop a whole span.
            guard !characters.isEmpty else { return }
            let end = min(characters.count, index + Int.random(in: 1...8, using: &rng))
            if Bool.random(using: &rng) {
                characters.insert(contentsOf: characters[index..<end], at: index)
            } else {
                characters.removeSubrange(index..<end)
            }
        }
    }

    /// Parses `text` both ways and checks that every range it reports lies inside the text.
    private func check(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        let source = SourceFile(name: "fuzz.scim", text: text)
        let size = text.utf8.count
        func inside(_ range: SourceRange?) -> Bool {
            guard let range else { return true }
            return range.lowerBound >= 0 && range.lowerBound <= range.upperBound && range.upperBound <= size
        }
        func checkScript(_ script: Script) {
            for statement in script.statements {
                XCTAssertTrue(
                    inside(statement.range), "statement range in \(text.debugDescription)", file: file,
                    line: line)
                XCTAssertFalse(statement.text.isEmpty, file: file, line: line)
                var pipelines: [Pipeline] = []
                switch statement.kind {
                case .pipeline(let p), .explain(let p), .letBinding(_, _, let p): pipelines.append(p)
                default: break
                }
                for pipeline in pipelines {
                    XCTAssertFalse(pipeline.stages.isEmpty, file: file, line: line)
                    XCTAssertTrue(inside(pipeline.range), file: file, line: line)
                    for stage in pipeline.stages {
                        XCTAssertTrue(
                            inside(stage.range) && inside(stage.nameRange) && inside(stage.filterRange),
                            "stage range in \(text.debugDescription)", file: file, line: line)
                        for argument in stage.arguments {
                            XCTAssertTrue(inside(argument.range), file: file, line: line)
                        }
                    }
                }
            }
        }
        do {
            let script = try testParser.parse(source)
            checkScript(script)
        } catch {
            XCTAssertNotNil(error.range, "no range for \(text.debugDescription)", file: file, line: line)
            XCTAssertTrue(inside(error.range), "\(error.message) in \(text.debugDescription)", file: file, line: line)
            XCTAssertFalse(error.message.isEmpty, file: file, line: line)
            let rendered = error.render(color: true)
            XCTAssertTrue(rendered.hasPrefix("\u{1B}[1mfuzz.scim:"), file: file, line: line)
        }
        let (script, diagnostics) = testParser.parseRecovering(source)
        checkScript(script)
        for diagnostic in diagnostics {
            XCTAssertTrue(inside(diagnostic.range), file: file, line: line)
            _ = diagnostic.render()
        }
    }
}
