import XCTest

@testable import SCIMCore

/// Parses, or fails the test with the parse error.
private func parse(_ text: String, variables: Bool = false, file: StaticString = #filePath, line: UInt = #line)
    -> SCIMFilter?
{
    do {
        return try FilterParser.parse(text, allowVariables: variables)
    } catch {
        XCTFail("\(text): \(error)", file: file, line: line)
        return nil
    }
}

/// The parse error for `text`, or `nil` (and a test failure) if it parses.
private func parseError(_ text: String, variables: Bool = false, file: StaticString = #filePath, line: UInt = #line)
    -> FilterParseError?
{
    do {
        let f = try FilterParser.parse(text, allowVariables: variables)
        XCTFail("\(text) parsed as \(f)", file: file, line: line)
        return nil
    } catch {
        return error
    }
}

private func path(_ name: String, _ sub: String? = nil, schema: String? = nil) -> AttributePath {
    AttributePath(schema: schema, name: name, subAttribute: sub)
}

private func str(_ s: String) -> FilterValue { .literal(.string(s)) }

final class FilterParserTests: XCTestCase {
    /// Every example filter of RFC 7644 §3.4.2.2, with its canonical printing.
    static let rfcExamples: [(text: String, canonical: String)] = [
        (#"userName eq "bjensen""#, #"userName eq "bjensen""#),
        (#"name.familyName co "O'Malley""#, #"name.familyName co "O'Malley""#),
        (#"userName sw "J""#, #"userName sw "J""#),
        (
            #"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            #"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#
        ),
        ("title pr", "title pr"),
        (#"meta.lastModified gt "2011-05-13T04:42:34Z""#, #"meta.lastModified gt "2011-05-13T04:42:34Z""#),
        (#"meta.lastModified ge "2011-05-13T04:42:34Z""#, #"meta.lastModified ge "2011-05-13T04:42:34Z""#),
        (#"meta.lastModified lt "2011-05-13T04:42:34Z""#, #"meta.lastModified lt "2011-05-13T04:42:34Z""#),
        (#"meta.lastModified le "2011-05-13T04:42:34Z""#, #"meta.lastModified le "2011-05-13T04:42:34Z""#),
        (#"title pr and userType eq "Employee""#, #"title pr and userType eq "Employee""#),
        (#"title pr or userType eq "Intern""#, #"title pr or userType eq "Intern""#),
        (
            #"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            #"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#
        ),
        (
            #"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            #"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#
        ),
        (
            #"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            #"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#
        ),
        (#"userType eq "Employee" and (emails.type eq "work")"#, #"userType eq "Employee" and emails.type eq "work""#),
        (
            #"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            #"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#
        ),
        (
            #"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            #"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#
        ),
    ]

    func testRFCExamplesParseAndRoundTrip() throws {
        XCTAssertEqual(Self.rfcExamples.count, 17)
        for (text, canonical) in Self.rfcExamples {
            let filter = try FilterParser.parse(text)
            XCTAssertEqual(filter.description, canonical, text)
            XCTAssertEqual(try FilterParser.parse(filter.description), filter, text)
        }
    }

    func testRFCExampleTrees() throws {
        XCTAssertEqual(
            try FilterParser.parse(#"userName eq "bjensen""#),
            .compare(path("userName"), .eq, str("bjensen"))
        )
        XCTAssertEqual(
            try FilterParser.parse(#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#),
            .compare(path("userName", schema: "urn:ietf:params:scim:schemas:core:2.0:User"), .sw, str("J"))
        )
        XCTAssertEqual(
            try FilterParser.parse(#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#),
            .and(
                .compare(path("userType"), .eq, str("Employee")),
                .valuePath(
                    path("emails"),
                    .and(.compare(path("type"), .eq, str("work")), .compare(path("value"), .co, str("@example.com")))
                )
            )
        )
        XCTAssertEqual(
            try FilterParser.parse(#"userType ne "Employee" and not (emails co "example.com")"#),
            .and(
                .compare(path("userType"), .ne, str("Employee")),
                .not(.compare(path("emails"), .co, str("example.com")))
            )
        )
    }

    func testEnterpriseExtensionPath() throws {
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        let f = try FilterParser.parse(#"\#(ext):manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#)
        XCTAssertEqual(
            f,
            .compare(
                path("manager", "value", schema: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
                .eq,
                str("26118915-6090-4610-87e4-49d8ca9f808d")
            )
        )
        XCTAssertEqual(try FilterParser.parse(f.description), f)
    }

    func testPrecedenceAndAssociativity() throws {
        let a = SCIMFilter.present(path("a"))
        let b = SCIMFilter.present(path("b"))
        let c = SCIMFilter.present(path("c"))
        XCTAssertEqual(try FilterParser.parse("a pr or b pr and c pr"), .or(a, .and(b, c)))
        XCTAssertEqual(try FilterParser.parse("a pr and b pr or c pr"), .or(.and(a, b), c))
        XCTAssertEqual(try FilterParser.parse("a pr and b pr and c pr"), .and(.and(a, b), c))
        XCTAssertEqual(try FilterParser.parse("a pr or b pr or c pr"), .or(.or(a, b), c))
        XCTAssertEqual(try FilterParser.parse("not (a pr) and b pr"), .and(.not(a), b))
        XCTAssertEqual(try FilterParser.parse("(a pr or b pr) and c pr"), .and(.or(a, b), c))
        XCTAssertEqual(try FilterParser.parse("((a pr))"), a)

        // Printing keeps exactly the parentheses that matter.
        XCTAssertEqual(SCIMFilter.and(a, .and(b, c)).description, "a pr and (b pr and c pr)")
        XCTAssertEqual(SCIMFilter.and(.and(a, b), c).description, "a pr and b pr and c pr")
        XCTAssertEqual(SCIMFilter.or(a, .or(b, c)).description, "a pr or (b pr or c pr)")
        XCTAssertEqual(SCIMFilter.and(.or(a, b), .or(b, c)).description, "(a pr or b pr) and (b pr or c pr)")
        XCTAssertEqual(SCIMFilter.or(.and(a, b), .and(b, c)).description, "a pr and b pr or b pr and c pr")
        XCTAssertEqual(SCIMFilter.not(.or(a, b)).description, "not (a pr or b pr)")
        for f in [SCIMFilter.and(a, .and(b, c)), .or(a, .or(b, c)), .and(.or(a, b), .not(.and(b, c)))] {
            XCTAssertEqual(try FilterParser.parse(f.description), f)
        }
    }

    func testCaseInsensitiveKeywordsAndLiterals() throws {
        let f = try FilterParser.parse(#"userName EQ "x" AND active Eq TRUE Or NOT (title PR) and x eq Null"#)
        XCTAssertEqual(
            f,
            .or(
                .and(.compare(path("userName"), .eq, str("x")), .compare(path("active"), .eq, .literal(.bool(true)))),
                .and(.not(.present(path("title"))), .compare(path("x"), .eq, .literal(.null)))
            )
        )
        XCTAssertEqual(f.description, #"userName eq "x" and active eq true or not (title pr) and x eq null"#)
    }

    func testLiterals() throws {
        let cases: [(String, JSONValue)] = [
            (#""a\"b\\c\/d\be\ff\ng\rh\ti""#, .string("a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti")),
            (#""\u00e9\u20AC\ud83d\ude00""#, .string("é€😀")),
            (#""Båbs 😀""#, .string("Båbs 😀")),
            (#""""#, .string("")),
            ("42", .number(42)),
            ("-7", .number(-7)),
            ("0", .number(0)),
            ("3.25", .number(3.25)),
            ("-1.5e3", .number(-1500)),
            ("2E-2", .number(0.02)),
            ("1e+2", .number(100)),
            ("false", .bool(false)),
            ("FALSE", .bool(false)),
            ("null", .null),
        ]
        for (text, value) in cases {
            let f = try FilterParser.parse("x eq \(text)")
            XCTAssertEqual(f, .compare(path("x"), .eq, .literal(value)), text)
            XCTAssertEqual(try FilterParser.parse(f.description), f, text)
        }
        XCTAssertEqual(
            SCIMFilter.compare(path("x"), .eq, str("tab\there \"q\"")).description,
            #"x eq "tab\there \"q\"""#
        )
        XCTAssertEqual(SCIMFilter.compare(path("x"), .gt, .literal(.number(1.5))).description, "x gt 1.5")
    }

    func testWhitespaceIsFlexible() throws {
        XCTAssertEqual(
            try FilterParser.parse("  emails[ type eq\t\"work\" ]\nand(title  pr)  "),
            .and(.valuePath(path("emails"), .compare(path("type"), .eq, str("work"))), .present(path("title")))
        )
    }

    func testRefAndNotAsAttributeNames() throws {
        XCTAssertEqual(
            try FilterParser.parse(#"members[$ref eq "https://x/Users/1"]"#),
            .valuePath(path("members"), .compare(path("$ref"), .eq, str("https://x/Users/1")))
        )
        XCTAssertEqual(try FilterParser.parse(#"not eq "x""#), .compare(path("not"), .eq, str("x")))
        XCTAssertEqual(try FilterParser.parse("notes pr"), .present(path("notes")))
    }

    func testVariables() throws {
        let f = try FilterParser.parse(#"userName eq $who and emails.value co ${env.DOMAIN}"#, allowVariables: true)
        XCTAssertEqual(
            f,
            .and(
                .compare(path("userName"), .eq, .variable("who")),
                .compare(path("emails", "value"), .co, .variable("env.DOMAIN"))
            )
        )
        XCTAssertEqual(f.description, #"userName eq $who and emails.value co $env.DOMAIN"#)
        XCTAssertEqual(try FilterParser.parse(f.description, allowVariables: true), f)
        XCTAssertTrue(f.usesVariables)
        XCTAssertEqual(f.features.variables, ["who", "env.DOMAIN"])

        let resolved = f.resolvingVariables { name in name == "who" ? "bjensen" : "example.com" }
        XCTAssertEqual(resolved.description, #"userName eq "bjensen" and emails.value co "example.com""#)
        XCTAssertFalse(resolved.usesVariables)

        struct Missing: Error {}
        XCTAssertThrowsError(try f.resolvingVariables { _ in throw Missing() })
    }

    func testTreeDescription() throws {
        XCTAssertEqual(
            try FilterParser.parse(#"userName eq "bjensen" and emails pr"#).treeDescription(),
            "and\n  eq userName \"bjensen\"\n  pr emails"
        )
        XCTAssertEqual(
            try FilterParser.parse(#"a eq 1 or not (b pr) and emails[type eq "work"]"#).treeDescription(),
            """
            or
              eq a 1
              and
                not
                  pr b
                emails[...]
                  eq type "work"
            """
        )
    }

    func testFeatures() throws {
        let f = try FilterParser.parse(
            #"userName eq "a" and emails[type eq "work" and value eq "x@y.org"] or not (title pr) and x gt 2"#
        )
        XCTAssertEqual(f.operators, [.eq, .gt])
        XCTAssertTrue(f.usesPresent)
        XCTAssertTrue(f.usesOr)
        XCTAssertTrue(f.usesNot)
        XCTAssertTrue(f.features.usesAnd)
        XCTAssertTrue(f.features.usesValuePath)
        XCTAssertEqual(
            f.attributePaths.map(\.description),
            ["userName", "emails", "emails.type", "emails.value", "title", "x"]
        )

        // What the ODM dialect accepts: only eq, and, and value paths on emails.
        let odm = try FilterParser.parse(#"userName eq "a" and emails[type eq "work" and value eq "x@y.org"]"#)
        XCTAssertEqual(odm.operators, [.eq])
        XCTAssertFalse(odm.usesPresent || odm.usesOr || odm.usesNot)
    }

    // MARK: Errors

    func testErrorMessagesAndOffsets() {
        let ops = "eq, ne, co, sw, ew, gt, ge, lt, le, pr"
        let cases: [(text: String, variables: Bool, message: String, offset: Int, length: Int)] = [
            ("", false, "empty filter", 0, 1),
            ("   ", false, "empty filter", 0, 3),
            ("userName", false, "expected an operator (\(ops)) after 'userName'", 8, 1),
            (#"userName xx "a""#, false, "expected an operator (\(ops)) after 'userName'", 9, 2),
            (#"userName = "a""#, false, "expected an operator (\(ops)) after 'userName'", 9, 1),
            ("userName eq", false, "expected a value after 'eq'", 11, 1),
            ("userName EQ ", false, "expected a value after 'EQ'", 12, 1),
            ("userName eq )", false, "expected a value after 'eq'", 12, 1),
            ("userName eq bjensen", false, "expected a value after 'eq' (strings need double quotes)", 12, 7),
            (#"userName eq "bjensen"#, false, "unterminated string", 12, 8),
            (#"userName eq "bjensen\""#, false, "unterminated string", 12, 10),
            (#"userName eq "x")"#, false, "unexpected ')'", 15, 1),
            (")", false, "unexpected ')'", 0, 1),
            (#"userName eq "x"]"#, false, "unexpected ']'", 15, 1),
            (#"emails[type eq "work""#, false, "expected ']' to close the value filter on 'emails'", 21, 1),
            (#"emails[type eq "work" x"#, false, "expected ']' to close the value filter on 'emails'", 22, 1),
            (#"emails[type eq "work")"#, false, "expected ']' to close the value filter on 'emails'", 21, 1),
            (#"userName eq "x" xyz"#, false, "unexpected 'xyz' after a complete filter", 16, 3),
            (#"userName eq "x" andy eq 1"#, false, "unexpected 'andy' after a complete filter", 16, 4),
            (#"emails[type eq "work"].value eq "x""#, false, "unexpected '.value' after a complete filter", 22, 6),
            (#"title pr "x""#, false, "'pr' does not take a value", 9, 3),
            ("title pr true", false, "'pr' does not take a value", 9, 4),
            ("title pr 1", false, "'pr' does not take a value", 9, 1),
            (
                #"emails[type eq "work" and x[y eq 1]]"#, false,
                "value filters cannot be nested: 'x[' inside 'emails[...]'", 26, 2
            ),
            (
                #"name.givenName[x eq 1]"#, false,
                "a value filter applies to a multi-valued attribute, not to the sub-attribute 'name.givenName'", 0, 14
            ),
            (#"userName eq "x" and"#, false, "expected a filter after 'and'", 19, 1),
            (#"userName eq "x" or "#, false, "expected a filter after 'or'", 19, 1),
            (#"userName eq "x" and ""#, false, "expected a filter after 'and'", 20, 1),
            ("()", false, "expected a filter after '('", 1, 1),
            (#"(userName eq "x""#, false, "expected ')' to close '('", 16, 1),
            (#"(userName eq "x" xyz"#, false, "expected ')' to close '('", 17, 3),
            (#"not userName eq "x""#, false, "expected '(' after 'not'", 4, 8),
            ("not", false, "expected '(' after 'not'", 3, 1),
            (#""x" eq 1"#, false, #"expected an attribute name, 'not' or '(' instead of '"x"'"#, 0, 3),
            ("1abc eq 1", false, "'1abc' is not a valid attribute path", 0, 4),
            ("a.b.c eq 1", false, "'a.b.c' is not a valid attribute path", 0, 5),
            ("a. eq 1", false, "'a.' is not a valid attribute path", 0, 2),
            ("urn:x: eq 1", false, "expected an attribute name after the schema 'urn:x'", 0, 6),
            ("x eq 01", false, "invalid number '01'", 5, 2),
            ("x eq 1.", false, "invalid number '1.'", 5, 2),
            ("x eq -", false, "invalid number '-'", 5, 1),
            ("x eq 1abc", false, "invalid number '1abc'", 5, 4),
            ("x eq 1e999", false, "invalid number '1e999'", 5, 5),
            (#"x eq "a\qb""#, false, "invalid escape in string", 7, 1),
            (#"x eq "\u12zz""#, false, "invalid \\u escape", 10, 1),
            ("x eq \"a\u{1}b\"", false, "control character in string", 7, 1),
            ("userName eq $who", false, "variables ('$name') are not allowed in this filter", 12, 4),
            ("userName eq $", true, "expected a variable name after '$'", 12, 1),
            ("userName eq $1x", true, "expected a variable name after '$'", 12, 3),
            ("userName eq ${who", true, "expected '}' to close '${'", 17, 1),
            ("userName eq ${}", true, "expected a variable name after '${'", 12, 2),
            // Offsets count UTF-8 bytes: "Båbs" is 5 bytes, "ü" is 2.
            (#"displayName eq "Båbs" xyz"#, false, "unexpected 'xyz' after a complete filter", 23, 3),
            ("ü eq 1", false, "expected an attribute name, 'not' or '(' instead of 'ü'", 0, 2),
            (#"userName eq "x" and ü"#, false, "expected a filter after 'and'", 20, 2),
        ]
        for c in cases {
            guard let e = parseError(c.text, variables: c.variables) else { continue }
            XCTAssertEqual(e.message, c.message, c.text)
            XCTAssertEqual(e.offset, c.offset, "offset of: \(c.text)")
            XCTAssertEqual(e.length, c.length, "length of: \(c.text)")
        }
    }

    func testErrorDescription() {
        XCTAssertEqual(parseError("userName eq")?.description, "expected a value after 'eq' (at column 12)")
    }

    func testNestingDepthIsCapped() throws {
        let ok = String(repeating: "(", count: FilterParser.maxDepth) + "a pr" + String(repeating: ")", count: 200)
        XCTAssertEqual(try FilterParser.parse(ok), .present(path("a")))
        let deep =
            String(repeating: "(", count: FilterParser.maxDepth + 1) + "a pr"
            + String(repeating: ")", count: FilterParser.maxDepth + 1)
        XCTAssertEqual(parseError(deep)?.message, "filter nested too deeply (more than 200 levels)")
        XCTAssertEqual(parseError(deep)?.offset, 200)
        let notsOK = String(repeating: "not (", count: 200) + "a pr" + String(repeating: ")", count: 200)
        XCTAssertEqual(try FilterParser.parse(try FilterParser.parse(notsOK).description).description.count, 1204)
        let nots = String(repeating: "not (", count: 10_000) + "a pr" + String(repeating: ")", count: 10_000)
        XCTAssertEqual(parseError(nots)?.message, "filter nested too deeply (more than 200 levels)")
        XCTAssertNotNil(parseError(String(repeating: "(", count: 100_000)))
    }

    func testComparisonCountIsCapped() throws {
        let many = (0..<FilterParser.maxComparisons).map { "id eq \($0)" }.joined(separator: " or ")
        let f = try FilterParser.parse(many)
        XCTAssertEqual(try FilterParser.parse(f.description), f)
        XCTAssertTrue(f.matches(["id": 999]))
        XCTAssertEqual(parseError(many + " or id eq 1")?.message, "filter has too many comparisons (more than 1000)")
    }

    // MARK: Never trap

    /// Thousands of random and mutated strings: each either parses to a filter that round-trips through the
    /// printer, or throws a `FilterParseError` pointing inside the text.
    func testRandomAndMutatedInputNeverTraps() {
        var rng = SplitMix64(seed: 0x5C1_F11E)
        let seeds =
            FilterParserTests.rfcExamples.map(\.text) + [
                #"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#,
                #"userName eq $who and x eq ${env.HOME}"#, #"x eq "\u00e9\ud83d\ude00\n" and y ge -1.5e3"#,
            ]
        let fragments = [
            "userName", "emails", "name.familyName", "urn:ietf:params:scim:schemas:core:2.0:User:", "eq", "ne", "co",
            "sw", "ew", "gt", "ge", "lt", "le", "pr", "and", "or", "not", "AND", "Not", "(", ")", "[", "]", "\"",
            "\"x\"", "\"\\u00", "\\", "$", "${", "}", "$x", "1", "-2.5e3", "0", "true", "NULL", ".", ":", " ", "  ",
            "\t", "é", "😀", "\u{0}", "\u{1}", "\"\\ud83d\"", "[]", "not (", ".value", "$ref",
        ]
        let bytePool = Array(" \t()[]\"\\$.:-+eE0123456789aeqnotrpw{}".utf8) + [0xC3, 0xA9, 0xFF, 0x80, 0x00]
        let resource = FilterEvaluatorTests.bjensen
        var parsed = 0
        var failed = 0
        for i in 0..<6000 {
            var text: String
            switch i % 3 {
            case 0:
                text = (0..<Int(rng.next() % 12)).map { _ in fragments[Int(rng.next() % UInt64(fragments.count))] }
                    .joined(separator: rng.next() % 2 == 0 ? " " : "")
            case 1:
                var bytes = Array(seeds[Int(rng.next() % UInt64(seeds.count))].utf8)
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    let at = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
                    switch rng.next() % 3 {
                    case 0: if !bytes.isEmpty { bytes.remove(at: at) }
                    case 1: bytes.insert(bytePool[Int(rng.next() % UInt64(bytePool.count))], at: at)
                    default: if !bytes.isEmpty { bytes[at] = bytePool[Int(rng.next() % UInt64(bytePool.count))] }
                    }
                }
                text = String(decoding: bytes, as: UTF8.self)
            default:
                var bytes = Array(seeds[Int(rng.next() % UInt64(seeds.count))].utf8)
                let cut = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count + 1))
                bytes = Array(bytes.prefix(cut))
                text =
                    String(decoding: bytes, as: UTF8.self)
                    + fragments[Int(rng.next() % UInt64(fragments.count))]
            }
            let variables = rng.next() % 2 == 0
            do {
                let filter = try FilterParser.parse(text, allowVariables: variables)
                parsed += 1
                let printed = filter.description
                do {
                    let again = try FilterParser.parse(printed, allowVariables: true)
                    XCTAssertEqual(again, filter, "\(text) printed as \(printed)")
                } catch {
                    XCTFail("\(text) printed as \(printed), which fails: \(error)")
                }
                _ = filter.matches(resource)
                _ = filter.treeDescription()
                _ = filter.features
            } catch {
                failed += 1
                XCTAssertFalse(error.message.isEmpty)
                XCTAssertTrue((0...text.utf8.count).contains(error.offset), "\(text): \(error)")
                XCTAssertGreaterThanOrEqual(error.length, 1)
            }
        }
        XCTAssertEqual(parsed + failed, 6000)
        // Both outcomes must be exercised for the test to mean anything.
        XCTAssertGreaterThan(parsed, 300)
        XCTAssertGreaterThan(failed, 300)
    }
}

/// A small deterministic random number generator (SplitMix64), so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class FilterEvaluatorTests: XCTestCase {
    /// The full User of RFC 7643 §8.2 with the enterprise extension of §8.3.
    static let bjensen: JSONValue = {
        let text = #"""
            {
              "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
              "id": "2819c223-7f76-453a-919d-413861904646",
              "externalId": "701984",
              "userName": "bjensen@example.com",
              "name": {
                "formatted": "Ms. Barbara J Jensen, III",
                "familyName": "Jensen",
                "givenName": "Barbara",
                "middleName": "Jane",
                "honorificPrefix": "Ms.",
                "honorificSuffix": "III"
              },
              "displayName": "Babs Jensen",
              "nickName": "Babs",
              "profileUrl": "https://login.example.com/bjensen",
              "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
              ],
              "phoneNumbers": [
                {"value": "555-555-5555", "type": "work"},
                {"value": "555-555-4444", "type": "mobile"}
              ],
              "ims": [{"value": "someaimhandle", "type": "aim"}],
              "userType": "Employee",
              "title": "Tour Guide",
              "preferredLanguage": "en-US",
              "locale": "en-US",
              "timezone": "America/Los_Angeles",
              "active": true,
              "nickNames": [],
              "costCenterNumber": 4130,
              "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "employeeNumber": "701984",
                "costCenter": "4130",
                "organization": "Universal Studios",
                "division": "Theme Park",
                "department": "Tour Operations",
                "manager": {
                  "value": "26118915-6090-4610-87e4-49d8ca9f808d",
                  "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d",
                  "displayName": "John Smith"
                }
              },
              "meta": {
                "resourceType": "User",
                "created": "2010-01-23T04:56:22Z",
                "lastModified": "2011-05-13T04:42:34Z",
                "version": "W\/\"3694e05e9dff591\"",
                "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"
              }
            }
            """#
        return (try? JSONParser.parse(text)) ?? .null
    }()

    private func check(
        _ filter: String,
        _ expected: Bool,
        variables: Bool = false,
        file: StaticString = #filePath,
        line: UInt = #line
    ) {
        guard let f = parse(filter, variables: variables, file: file, line: line) else { return }
        XCTAssertEqual(f.matches(Self.bjensen), expected, filter, file: file, line: line)
    }

    func testFixtureParsed() {
        XCTAssertEqual(Self.bjensen["userName"], "bjensen@example.com")
    }

    func testRFCExamplesAgainstBjensen() {
        let expected = [
            false,  // userName eq "bjensen" (her userName is the address)
            false,  // name.familyName co "O'Malley"
            false,  // userName sw "J" (it is bjensen@example.com)
            false,  // urn:...:User:userName sw "J"
            true,  // title pr
            false,  // meta.lastModified gt "2011-05-13T04:42:34Z"
            true,  // ge
            false,  // lt
            true,  // le
            true,  // title pr and userType eq "Employee"
            true,  // title pr or userType eq "Intern"
            true,  // schemas eq "...enterprise:2.0:User"
            true,  // userType eq "Employee" and (emails co "example.com" or ...)
            false,  // userType ne "Employee" and not (...)
            true,  // userType eq "Employee" and (emails.type eq "work")
            true,  // userType eq "Employee" and emails[type eq "work" and value co "@example.com"]
            true,  // emails[...] or ims[...]
        ]
        for ((text, _), want) in zip(FilterParserTests.rfcExamples, expected) {
            check(text, want)
        }
    }

    func testStringsAreCaseInsensitive() {
        check(#"userName eq "BJENSEN@example.COM""#, true)
        check(#"USERNAME eq "bjensen@example.com""#, true)
        check(#"userName sw "B""#, true)
        check(#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bJ""#, true)
        check(#"name.FAMILYNAME eq "jensen""#, true)
        check(#"displayName co "S JEN""#, true)
        check(#"displayName sw "babs""#, true)
        check(#"displayName ew "JENSEN""#, true)
        check(#"displayName ew "Babs""#, false)
        check(#"displayName co """#, true)
        check(#"displayName ne "babs jensen""#, false)
        check(#"displayName ne "Someone""#, true)
        check(#"displayName gt "babs""#, true)
        check(#"displayName lt "BABS JENSEN""#, false)
        check(#"displayName le "BABS JENSEN""#, true)
    }

    func testASCIIFastPathAgreesWithTheGeneralComparison() {
        // Characters around the letter ranges (@ [ ` {) must not be folded; non-ASCII takes the general path.
        let words = [
            "", "a", "A", "ab", "aB@", "@", "[", "`", "{", "Z", "z[", "Jensen", "JENSEN", "s jen", "Ölz", "ölz",
        ]
        for a in words {
            for b in words {
                for op in [CompareOperator.eq, .ne, .co, .sw, .ew] {
                    let x = a.lowercased()
                    let y = b.lowercased()
                    let reference: Bool
                    switch op {
                    case .eq: reference = x == y
                    case .ne: reference = x != y
                    case .co: reference = y.isEmpty || x.contains(y)
                    case .sw: reference = x.hasPrefix(y)
                    default: reference = x.hasSuffix(y)
                    }
                    XCTAssertEqual(
                        FilterEvaluator.compareOne(.string(a), op, .string(b), caseExact: false), reference,
                        "\(a) \(op) \(b)")
                }
            }
        }
        XCTAssertNil(FilterEvaluator.asciiCompare("Ölz", .eq, "ölz"), "non-ASCII text takes the general path")
        XCTAssertNil(FilterEvaluator.asciiCompare("a", .gt, "b"), "ordering takes the general path")
    }

    func testMultiValuedAttributes() {
        check(#"emails eq "babs@jensen.org""#, true)
        check(#"emails.value eq "babs@jensen.org""#, true)
        check(#"emails co "jensen.org""#, true)
        check(#"emails.type eq "home""#, true)
        check(#"emails.type eq "other""#, false)
        check(#"emails.type ne "work""#, true)  // some element is not "work"
        check(#"emails[type eq "home" and value co "example.com"]"#, false)
        check(#"emails[type eq "work" and value co "example.com"]"#, true)
        check(#"emails[primary eq true]"#, true)
        check(#"emails[TYPE eq "work" and primary eq false]"#, false)
        check(#"phoneNumbers[type eq "mobile" and value sw "555-555-4"]"#, true)
        check(#"schemas eq "URN:ietf:params:scim:schemas:core:2.0:User""#, true)
        check(#"x509Certificates.value sw "MIID""#, true)
        check(#"name[givenName eq "Barbara"]"#, true)
        check(#"title[x eq 1]"#, false)
    }

    func testPresence() {
        check("title pr", true)
        check("name pr", true)
        check("name.middleName pr", true)
        check("name.nickName pr", false)
        check("emails pr", true)
        check("emails.primary pr", true)
        check("nickNames pr", false)  // empty array
        check("missing pr", false)
        check("not (missing pr)", true)
        let blank: JSONValue = ["title": "", "nick": nil, "emails": [], "name": [:]]
        for attr in ["title", "nick", "emails", "name", "absent"] {
            XCTAssertFalse(SCIMFilter.present(path(attr)).matches(blank), attr)
        }
    }

    func testMissingAttributesAndNull() {
        check(#"missing eq "x""#, false)
        check(#"missing ne "x""#, true)
        check(#"missing eq null"#, true)
        check(#"title eq null"#, false)
        check(#"title ne null"#, true)
        check(#"missing co "x""#, false)
        check(#"missing gt "a""#, false)
    }

    func testNumbersBooleansAndMismatchedTypes() {
        check("costCenterNumber eq 4130", true)
        check("costCenterNumber gt 4000", true)
        check("costCenterNumber ge 4130.0", true)
        check("costCenterNumber lt 4130", false)
        check("costCenterNumber le 4130", true)
        check("costCenterNumber ne 1", true)
        check("costCenterNumber co 41", false)
        // A number or boolean written as text compares as that type (RFC 7643 §2.3; a lenient server's reading).
        check(#"costCenterNumber eq "4130""#, true)
        check(#"costCenterNumber gt "999""#, true)
        check(#"costCenterNumber eq "4130x""#, false)
        check(#"costCenterNumber co "41""#, false)
        check("active eq true", true)
        check("active eq TRUE", true)
        check("active ne true", false)
        check("active eq false", false)
        check("active gt false", false)
        check(#"active eq "true""#, true)
        check(#"active eq "False""#, false)
        check(#"active eq "yes""#, false)
        check("userName eq 1", false)
        check("userName ne 1", false)  // a mismatched comparison is false, even ne
        check("name eq 1", false)
    }

    func testDates() {
        check(#"meta.created lt "2011-05-13T04:42:34Z""#, true)
        check(#"meta.created gt "2010-01-01T00:00:00Z""#, true)
        check(#"meta.lastModified ge "2011-05-13T04:42:34Z" and meta.lastModified le "2011-05-13T04:42:34Z""#, true)
        check(#"meta.lastModified gt "2011-05-13T04:42:35Z""#, false)
    }

    func testEnterpriseExtension() {
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        check(#"\#(ext):manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d""#, true)
        check(#"\#(ext):department eq "tour operations""#, true)
        check(#"\#(ext):department eq "Sales""#, false)
        check(#"\#(ext):manager.displayName sw "John""#, true)
        check(#"\#(ext):manager.$ref pr"#, true)
        check(#"\#(ext):employeeNumber eq "701984""#, true)
        check(#"\#(ext.uppercased()):EMPLOYEENUMBER eq "701984""#, true)
        check(#"\#(ext):userName pr"#, false)  // not in the extension
        check(#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Barbara""#, true)
        check(#"department eq "Tour Operations""#, true)  // unqualified: found in the extension
        check(#"manager.value pr"#, true)
    }

    func testVariablesNeverMatch() {
        check(#"userName eq $who"#, false, variables: true)
        check(#"not (userName eq $who)"#, false, variables: true)
        check(#"title pr or userName eq $who"#, false, variables: true)
        guard let f = parse(#"userName eq $who"#, variables: true) else { return }
        XCTAssertTrue(f.resolvingVariables { _ in "bjensen@example.com" }.matches(Self.bjensen))
    }

    func testNonObjectResources() {
        let f = SCIMFilter.present(path("x"))
        for r: JSONValue in [nil, 1, "x", [1, 2], true] {
            XCTAssertFalse(f.matches(r))
            XCTAssertTrue(SCIMFilter.not(f).matches(r))
        }
    }
}

/// RFC 7644 §3.10 attribute paths as users type them (create, patch, select, sort, table columns).
final class AttributePathParsingTests: XCTestCase {
    func testSchemaPrefixKeepsTheDotsOfItsVersion() throws {
        let e = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        let p = try XCTUnwrap(AttributePath(parsing: e + ":employeeNumber"))
        XCTAssertEqual(p.schema, e)
        XCTAssertEqual(p.name, "employeeNumber")
        XCTAssertNil(p.subAttribute)
        XCTAssertTrue(p.isExtension)
        XCTAssertEqual(p.jsonPath, [e, "employeeNumber"])
        let m = try XCTUnwrap(AttributePath(parsing: e + ":manager.displayName"))
        XCTAssertEqual(m.jsonPath, [e, "manager", "displayName"])
    }

    func testCoreSchemaAndPlainPaths() throws {
        let core = try XCTUnwrap(AttributePath(parsing: SCIMSchema.user + ":name.givenName"))
        XCTAssertFalse(core.isExtension)
        XCTAssertEqual(core.jsonPath, ["name", "givenName"])
        XCTAssertEqual(AttributePath(parsing: "meta.created")?.jsonPath, ["meta", "created"])
        XCTAssertEqual(AttributePath(parsing: "userName")?.jsonPath, ["userName"])
        XCTAssertNil(AttributePath(parsing: ""))
        XCTAssertNil(AttributePath(parsing: "urn:x:"))
        XCTAssertNil(AttributePath(parsing: ".x"))
        XCTAssertEqual(AttributePath(parsing: "time:x")?.jsonPath, ["time:x"], "not a URN: no schema")
    }
}

/// dateTime values compare as instants (RFC 7643 §2.3.5), not as text.
final class DateTimeFilterTests: XCTestCase {
    static let user: JSONValue = .object(
        JSONObject([
            ("userName", "u"),
            ("meta", .object(JSONObject([("created", "2026-12-04T03:48:15.198910Z")]))),
        ]))

    func check(_ filter: String, _ expected: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try FilterParser.parse(filter).matches(Self.user), expected, filter, file: file, line: line)
    }

    func testFractionsOfASecondCount() throws {
        try check(#"meta.created gt "2026-12-04T03:48:15Z""#, true)
        try check(#"meta.created ge "2026-12-04T03:48:15Z""#, true)
        try check(#"meta.created lt "2026-12-04T03:48:15Z""#, false)
        try check(#"meta.created lt "2026-12-04T03:48:15.2Z""#, true)
        try check(#"meta.created eq "2026-12-04T03:48:15.19891Z""#, true)
        try check(#"meta.created eq "2026-12-04T03:48:15Z""#, false)
    }

    func testOffsetsCount() throws {
        try check(#"meta.created gt "2026-12-04T04:48:15+01:00""#, true)
        try check(#"meta.created lt "2026-12-04T04:48:16+01:00""#, true)
        try check(#"meta.created eq "2026-12-04T04:48:15.198910+01:00""#, true)
        try check(#"meta.created lt "2026-12-03T23:00:00-05:00""#, true)  // 04:00Z on the 4th
        try check(#"meta.created gt "2026-12-03T23:00:00-04:00""#, true)  // 03:00Z on the 4th
    }

    func testInstantParsing() {
        XCTAssertEqual(UTCTime.instant("1970-01-01T00:00:00Z")?.seconds, 0)
        XCTAssertEqual(UTCTime.instant("2026-12-04T03:48:15Z")?.seconds, 1_796_356_095)
        XCTAssertEqual(UTCTime.instant("2026-12-04T04:48:15+01:00")?.seconds, 1_796_356_095)
        XCTAssertEqual(UTCTime.instant("2026-12-04T03:48:15.5Z")?.nanoseconds, 500_000_000)
        for bad in [
            "", "2026-12-04", "2026-12-04T03:48:15", "2026-13-04T03:48:15Z", "2026-12-04T03:48:15.Z",
            "2026-12-04T03:48:15+0100", "bjensen@example.com", "2026-12-04T03:48:15Zjunk",
        ] {
            XCTAssertNil(UTCTime.instant(bad), bad)
        }
    }

    func testTextThatIsNotADateStillComparesAsText() throws {
        let f = try FilterParser.parse(#"userName gt "a""#)
        XCTAssertTrue(f.matches(Self.user))
    }
}
