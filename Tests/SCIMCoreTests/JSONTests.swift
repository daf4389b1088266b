import SCIMCore
import XCTest

final class JSONTests: XCTestCase {
    func testRoundTripKeepsOrder() throws {
        let text = #"{"zeta":1,"alpha":[true,false,null],"mid":{"b":"x","a":-2.5},"e":[],"o":{}}"#
        let value = try JSONParser.parse(text)
        XCTAssertEqual(JSONEncoderFast.encode(value), text)
        XCTAssertEqual(value.objectValue?.keys, ["zeta", "alpha", "mid", "e", "o"])
        XCTAssertEqual(value["mid"]?.objectValue?.keys, ["b", "a"])
        XCTAssertEqual(try JSONParser.parse(JSONEncoderFast.pretty(value)), value)
        XCTAssertEqual(try JSONParser.parse(Array(text.utf8)), value)
        XCTAssertEqual(try JSONParser.parse(text.utf8), value)
    }

    func testPretty() throws {
        let value: JSONValue = ["a": [1, "x"], "b": [:], "c": []]
        XCTAssertEqual(
            JSONEncoderFast.pretty(value),
            "{\n  \"a\": [\n    1,\n    \"x\"\n  ],\n  \"b\": {},\n  \"c\": []\n}"
        )
    }

    func testScalars() throws {
        XCTAssertEqual(try JSONParser.parse(" true "), .bool(true))
        XCTAssertEqual(try JSONParser.parse("null"), .null)
        XCTAssertEqual(try JSONParser.parse("0"), .number(0))
        XCTAssertEqual(try JSONParser.parse("-0.5e-3"), .number(-0.0005))
        XCTAssertEqual(try JSONParser.parse("1E+2"), .number(100))
        XCTAssertEqual(JSONEncoderFast.encode(.number(3)), "3")
        XCTAssertEqual(JSONEncoderFast.encode(.number(2.5)), "2.5")
        XCTAssertEqual(JSONEncoderFast.encode(.number(1e20)), "1e+20")
        XCTAssertEqual(try JSONParser.parse(JSONEncoderFast.encode(.number(0.1))), .number(0.1))
        XCTAssertEqual(JSONEncoderFast.encode(.number(.infinity)), "null")
    }

    func testEscapes() throws {
        XCTAssertEqual(
            try JSONParser.parse(#""q\" b\\ s\/ \b\f\n\r\t \u0041\u00e9\u20ac""#),
            .string("q\" b\\ s/ \u{8}\u{c}\n\r\t Aé€")
        )
        let tricky = "quote\" backslash\\ nl\n tab\t cr\r ctl\u{1}\u{1f} del\u{7f} é 😀"
        let encoded = JSONEncoderFast.quote(tricky)
        XCTAssertEqual(encoded, #""quote\" backslash\\ nl\n tab\t cr\r ctl\u0001\u001f del"# + "\u{7f} é 😀\"")
        XCTAssertEqual(try JSONParser.parse(encoded), .string(tricky))
    }

    func testSurrogatePairs() throws {
        XCTAssertEqual(try JSONParser.parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try JSONParser.parse(#""\uD834\uDD1E""#), .string("𝄞"))
        // Lone surrogates become U+FFFD, and the escape after a lone high surrogate is kept.
        XCTAssertEqual(try JSONParser.parse(#""\ud83d""#), .string("\u{FFFD}"))
        XCTAssertEqual(try JSONParser.parse(#""\ude00x""#), .string("\u{FFFD}x"))
        XCTAssertEqual(try JSONParser.parse(#""\ud83d\u0041""#), .string("\u{FFFD}A"))
        XCTAssertEqual(try JSONParser.parse(#""\ud83d\ud83d\ude00""#), .string("\u{FFFD}😀"))
    }

    func testCaseInsensitiveObjects() throws {
        let value = try JSONParser.parse(#"{"userName":"a","Emails":[]}"#)
        XCTAssertEqual(value["USERNAME"], "a")
        XCTAssertEqual(value["emails"], [])
        var object = JSONObject([("userName", "a")])
        object["USERNAME"] = "b"
        XCTAssertEqual(object.keys, ["userName"])
        XCTAssertEqual(object["username"], "b")
        object["username"] = nil
        XCTAssertTrue(object.isEmpty)

        // Names that differ in more than ASCII letter case, or only outside ASCII.
        let names = JSONObject([("a[b", 1), ("Größe", 2), ("ÉTAT", 3), ("x1", 4)])
        XCTAssertNil(names["A{B"], "'[' and '{' differ by the case bit but are not letters")
        XCTAssertEqual(names["A[B"], 1)
        XCTAssertNil(names["a["], "a prefix is not the name")
        XCTAssertNil(names["a[bc"])
        XCTAssertEqual(names["GRÖSSE"], nil, "lowercasing does not turn SS into ß")
        XCTAssertEqual(names["größe"], 2)
        XCTAssertEqual(names["état"], 3, "non-ASCII letters fold too")
        XCTAssertEqual(names["X1"], 4)
        XCTAssertNil(names["x!"], "'1' and '!' differ by the case bit but are not letters")

        // A name whose lowercase has another length than the name: the Kelvin sign K (3 bytes) lowercases to
        // ASCII k, so lengths alone cannot rule a member out once either side is not ASCII.
        let kelvin = JSONObject([("x", 0), ("\u{212A}ind", 1)])
        XCTAssertEqual(kelvin["kind"], 1, "an ASCII name finds a non-ASCII member")
        let ascii = JSONObject([("x", 0), ("Kind", 1)])
        XCTAssertEqual(ascii["\u{212A}IND"], 1, "a non-ASCII name finds an ASCII member")
        XCTAssertNil(ascii["kinds"])
        var parsed = try XCTUnwrap(JSONParser.parse(#"{"kind":1,"\u212Aind":2}"#).objectValue)
        XCTAssertEqual(parsed.keys, ["kind"], "a later duplicate up to case replaces the earlier member")
        XCTAssertEqual(parsed["kind"], 2)
        parsed["KIND"] = 3
        XCTAssertEqual(parsed.count, 1)
    }

    /// `==` ignores member order and name case, so `hash` must too.
    func testEqualObjectsHashEqually() throws {
        let a = try JSONParser.parse(#"{"B":1,"a":2}"#)
        let b = try JSONParser.parse(#"{"A":2,"b":1}"#)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.hashValue, b.hashValue)
        XCTAssertEqual(Set([a, b]).count, 1)
    }

    func testTruncatedAndGarbageInputThrows() {
        let full = #"{"a":[1,2.5,"x\u00e9",true,null,{"b":false}],"c":"d"}"#
        let bytes = Array(full.utf8)
        for cut in 0..<bytes.count {
            let text = String(decoding: bytes.prefix(cut), as: UTF8.self)
            XCTAssertThrowsError(try JSONParser.parse(text), "prefix \(cut): \(text)") { error in
                guard let e = error as? JSONParseError else { return XCTFail("\(error)") }
                XCTAssertTrue((0...cut).contains(e.offset), "\(text): \(e)")
            }
        }
        let garbage = [
            "", " ", "tru", "nul", "True", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "01", "-", "1.", "1e",
            "+1", ".5", "\"a", "\"\\x\"", "\"\\u12g4\"", "\"a\u{1}b\"", "[", "]", "}", "1 2", "{\"a\":1}x", "nan",
            "1e999", "-1e400", "\u{FEFF}{}", "é", "[\"\\",
        ]
        for text in garbage {
            XCTAssertThrowsError(try JSONParser.parse(text), text) { error in
                XCTAssertTrue(error is JSONParseError, "\(text): \(error)")
            }
        }
    }

    func testErrorMessagesAndOffsets() {
        /// "message @offset" for the error parsing `text`.
        func error(_ text: String) -> String? {
            do {
                _ = try JSONParser.parse(text)
                return nil
            } catch {
                return "\(error.message) @\(error.offset)"
            }
        }
        XCTAssertEqual(error("[1,]"), "unexpected character ']' @3")
        XCTAssertEqual(error("{\"a\":1} x"), "unexpected text after the JSON value @8")
        XCTAssertEqual(error("\"ab\\qc\""), "invalid escape in string @3")
        XCTAssertEqual(error("01"), "invalid number: leading zero @0")
        XCTAssertEqual(error("[1e999]"), "number out of range @1")
        XCTAssertEqual(error("\"abc"), "unterminated string @4")
        XCTAssertEqual(error("é"), "unexpected character @0")
        XCTAssertThrowsError(try JSONParser.parse("[")) { error in
            XCTAssertEqual("\(error)", "invalid JSON at byte 1: unexpected end of input")
        }
    }

    func testDeepNestingThrows() throws {
        let ok = String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        XCTAssertNoThrow(try JSONParser.parse(ok))
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertThrowsError(try JSONParser.parse(deep)) { error in
            XCTAssertEqual((error as? JSONParseError)?.message, "nesting too deep")
        }
        let objects = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        XCTAssertThrowsError(try JSONParser.parse(objects))
    }

    func testRandomBytesNeverTrap() {
        var rng = SplitMix64(seed: 7643)
        let pool = Array(#"{}[]":,\u0123456789abcdefnulltrue-+.eE "#.utf8) + [0xC3, 0xA9, 0xFF, 0x00, 0x1F]
        let seed = Array(#"{"a":[1,-2.5e3,"x\"\u00e9\ud83d\ude00",true,null,{}],"b":{"c":[]}}"#.utf8)
        for i in 0..<4000 {
            var bytes: [UInt8]
            if i % 2 == 0 {
                bytes = (0..<Int(rng.next() % 24)).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }
            } else {
                bytes = seed
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    let at = Int(rng.next() % UInt64(bytes.count))
                    bytes[at] = pool[Int(rng.next() % UInt64(pool.count))]
                }
            }
            do {
                let value = try JSONParser.parse(bytes)
                XCTAssertEqual(try JSONParser.parse(JSONEncoderFast.encode(value)), value)
            } catch {
                XCTAssertTrue((0...bytes.count).contains(error.offset))
            }
        }
    }

    func testDisplayString() {
        XCTAssertEqual(JSONValue.string("x").displayString, "x")
        XCTAssertEqual(JSONValue.number(4130).displayString, "4130")
        XCTAssertEqual(JSONValue.null.displayString, "")
        XCTAssertEqual(JSONValue.array([1, "a"]).displayString, #"[1,"a"]"#)
    }

    /// A parsed object is what adding the members one by one through the subscript gives (a later name equal to
    /// an earlier one ignoring case replaces it), whatever the names' case, escapes, non-ASCII text or number.
    func testParsedObjectsMatchMembersAddedOneByOne() throws {
        var rng = SplitMix64(seed: 2819)
        let names = [
            "userName", "USERNAME", "username", "id", "ID", "displayName", "active", "emails", "Emails", "meta",
            "kind", "\u{212A}ind", "KIND", "état", "ÉTAT", "a[b", "A{B", "x1", "x!", "",
        ]
        for round in 0..<600 {
            var count = Int(rng.next() % 12)
            // Some objects with many names.
            if round % 10 == 0 { count = 80 + Int(rng.next() % 40) }
            var text = "{"
            var expected = JSONObject()
            for i in 0..<count {
                let name = round % 10 == 0 ? "n\(rng.next() % 90)" : names[Int(rng.next() % UInt64(names.count))]
                // Write some names with escapes, which the parser must read as the same name.
                let written =
                    rng.next() % 5 == 0
                    ? "\"" + name.unicodeScalars.map { unicodeEscape($0.value) }.joined() + "\""
                    : JSONEncoderFast.quote(name)
                if i > 0 { text += "," }
                text += "\(written):\(i)"
                expected[name] = .number(Double(i))
            }
            text += "}"
            let parsed = try XCTUnwrap(JSONParser.parse(text).objectValue, text)
            XCTAssertEqual(parsed.keys, expected.keys, text)
            XCTAssertEqual(parsed.members.map(\.value), expected.members.map(\.value), text)
        }
        // A duplicate up to ASCII case right after many other names, and an escaped duplicate.
        let many = (0..<70).map { "\"m\($0)\":\($0)" }.joined(separator: ",")
        let object = try XCTUnwrap(JSONParser.parse("{\(many),\"M5\":\"last\"}").objectValue)
        XCTAssertEqual(object.count, 70)
        XCTAssertEqual(object["m5"], "last")
        XCTAssertEqual(try JSONParser.parse(#"{"userName":1,"user\u004eame":2}"#).objectValue?.keys, ["userName"])
    }

    /// A quote, backslash or control character is escaped (and read back) wherever it is in a string.
    func testStringsWithSpecialBytesAtEveryOffset() throws {
        for length in 0..<26 {
            for at in 0..<max(length, 1) {
                for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}", "é", "\u{7f}"] {
                    var text = String(repeating: "a", count: length)
                    if length > 0 {
                        let i = text.index(text.startIndex, offsetBy: at)
                        text.replaceSubrange(i...i, with: special)
                    }
                    let encoded = JSONEncoderFast.quote(text)
                    XCTAssertEqual(
                        encoded, JSONTests.referenceQuote(text), "\(length) \(at) \(special.debugDescription)")
                    XCTAssertEqual(try JSONParser.parse(encoded), .string(text))
                    // A raw control character inside a string is an error wherever it is.
                    if length > 0, special.unicodeScalars.first!.value < 0x20 {
                        XCTAssertThrowsError(try JSONParser.parse("\"" + text + "\""))
                    }
                }
            }
        }
    }

    /// Escaping a scalar at a time, the reference for the writer.
    static func referenceQuote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"
            case "\u{c}": out += "\\f"
            case _ where u.value < 0x20: out += unicodeEscape(u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// An integer a `Double` cannot hold exactly (2^53 and beyond) keeps its exact value through parse and encode:
    /// ids and counters from a server are sent back as they came.
    func testBigIntegersKeepTheirExactValue() throws {
        for digits in [
            "9007199254740993", "-9007199254740993", "9007199254740992", "12345678901234567890123",
            "18446744073709551617",
        ] {
            let value = try JSONParser.parse(digits)
            XCTAssertEqual(JSONEncoderFast.encode(value), digits)
            XCTAssertEqual(value.displayString, digits)
            XCTAssertEqual(value.numberValue, Double(digits))
            let object = try JSONParser.parse(#"{"id":"# + digits + #","n":[1,"# + digits + "]}")
            XCTAssertEqual(JSONEncoderFast.encode(object), #"{"id":"# + digits + #","n":[1,"# + digits + "]}")
            XCTAssertEqual(try JSONParser.parse(JSONEncoderFast.pretty(object)), object)
        }
        XCTAssertNotEqual(try JSONParser.parse("9007199254740993"), try JSONParser.parse("9007199254740992"))
        // Smaller integers, fractions and exponents stay Doubles; integral Doubles below 2^53 are written without
        // an exponent, larger ones with one, so that they read back as the same Double (found by fuzz/json).
        XCTAssertEqual(try JSONParser.parse("9007199254740991"), .number(9_007_199_254_740_991))
        XCTAssertEqual(try JSONParser.parse("9007199254740993.0"), .number(9_007_199_254_740_992))
        XCTAssertEqual(try JSONParser.parse("1e16"), .number(1e16))
        XCTAssertEqual(JSONEncoderFast.encode(.number(9_007_199_254_740_991)), "9007199254740991")
        XCTAssertEqual(JSONEncoderFast.encode(.number(1e16)), "1e+16")
        let fuzzed = try JSONParser.parse("1234567890123456789012340.5E-7")
        XCTAssertEqual(try JSONParser.parse(JSONEncoderFast.encode(fuzzed)), fuzzed)
        XCTAssertEqual(try JSONParser.parse(JSONEncoderFast.encode(.number(-0x1p60))), .number(-0x1p60))
        // Made by hand with text that is not an integer, the case is written as a string, never as bad JSON.
        XCTAssertEqual(JSONEncoderFast.encode(.bigInteger("12a")), #""12a""#)
        // Filters compare them exactly.
        let user: JSONValue = try JSONParser.parse(#"{"n":9007199254740993}"#)
        for (filter, expected) in [
            ("n eq 9007199254740993", true), ("n eq 9007199254740992", false), ("n gt 9007199254740992", true),
            ("n lt 10000000000000000000", true), ("n gt -9007199254740994", true), ("n le 9007199254740993", true),
        ] {
            XCTAssertEqual(try FilterParser.parse(filter).matches(user), expected, filter)
        }
    }

    /// Bytes that are not UTF-8 are an error at the first bad byte (docs/language.md: JSON is UTF-8), not text
    /// with U+FFFD in it.
    func testInvalidUTF8IsAnError() {
        func error(_ bytes: [UInt8]) -> String? {
            do {
                _ = try JSONParser.parse(bytes)
                return nil
            } catch {
                return "\(error.message) @\(error.offset) \(error.isInvalidUTF8)"
            }
        }
        let jose = Array(#"{"a":"Jos"#.utf8)
        XCTAssertEqual(error(jose + [0xE9, 0x22, 0x7D]), "invalid UTF-8 @9 true", "Latin-1")
        XCTAssertEqual(error(jose + [0xC3, 0xA9, 0xE9, 0x22, 0x7D]), "invalid UTF-8 @11 true", "after valid é")
        XCTAssertEqual(error(jose + Array(#"\n"#.utf8) + [0xFF, 0x22, 0x7D]), "invalid UTF-8 @11 true", "after escape")
        XCTAssertEqual(error([0x22, 0xC0, 0x80, 0x22]), "invalid UTF-8 @1 true", "overlong NUL")
        XCTAssertEqual(error([0x22, 0xED, 0xA0, 0x80, 0x22]), "invalid UTF-8 @1 true", "surrogate")
        XCTAssertEqual(error([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]), "invalid UTF-8 @1 true", "above U+10FFFF")
        XCTAssertEqual(error([0x22, 0x61, 0xE2, 0x82, 0x22]), "invalid UTF-8 @2 true", "cut short")
        XCTAssertEqual(error([0x5B, 0xFF, 0x5D]), "invalid UTF-8 @1 true", "outside a string")
        XCTAssertEqual(error([0x22] + Array("é😀".utf8) + [0x22]), nil)
        XCTAssertThrowsError(try JSONParser.parse(jose + [0xE9, 0x22, 0x7D])) { error in
            XCTAssertEqual("\(error)", "invalid JSON at byte 9: invalid UTF-8")
        }
    }
}

/// `\uXXXX` for a code point below 0x10000.
func unicodeEscape(_ v: UInt32) -> String {
    let hex = String(v, radix: 16)
    return "\\u" + String(repeating: "0", count: max(0, 4 - hex.utf8.count)) + hex
}

/// Secrets are masked however a URL encodes them (issue 18, item 9).
final class SecretMaskEncodingTests: XCTestCase {
    func testEncodedFormsOfASecretAreMasked() {
        let token = "ab+cd/ef=="
        let mask = SecretMask([token])
        for text in [
            "Bearer ab+cd/ef==", "filter=userName%20eq%20%22ab%2Bcd%2Fef%3D%3D%22",
            "/Users/ab%2bcd%2fef%3d%3d", "x ab%2Bcd%2Fef%3D%3D y",
        ] {
            let masked = mask.apply(text)
            XCTAssertFalse(masked.contains("cd"), "\(text) → \(masked)")
            XCTAssertTrue(masked.contains("****"), masked)
        }
        // A path segment keeps '@' and ':' as they are.
        let colon = SecretMask(["user:p@ss word"])
        XCTAssertEqual(colon.apply("/Users/user:p@ss%20word"), "/Users/****")
        // A secret with nothing to encode has one form; short ones are not masked at all.
        XCTAssertEqual(SecretMask(["plain-token"]).secrets, ["plain-token"])
        XCTAssertTrue(SecretMask(["a+b"]).isEmpty)
    }
}
