import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SCIMCore
import SCIMSandbox
import XCTest

/// Percent-encodes a query value.
private func q(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
}

/// The userNames of a list response, in order.
private func userNames(_ r: Reply) -> [String] {
    r.json?["Resources"]?.arrayValue?.compactMap { $0["userName"]?.stringValue } ?? []
}

final class FindTests: XCTestCase {
    func testListReturnsActiveUsersInCreationOrder() async throws {
        try await withSandbox { sandbox, client in
            let r = try await client.send(.get, "/Users")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.json?["schemas"], ["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
            let active = sandbox.users().filter { $0["active"] == true }.compactMap { $0["userName"]?.stringValue }
            XCTAssertEqual(userNames(r), active)
            XCTAssertEqual(active.count, 6)
            XCTAssertEqual(sandbox.users().count, 8)
            XCTAssertEqual(r.json?["totalResults"], 6)
            XCTAssertEqual(r.json?["startIndex"], 1)
            XCTAssertEqual(r.json?["itemsPerPage"], 6)
            XCTAssertFalse(userNames(r).contains("okoval"))
        }
    }

    func testPaginationOverGeneratedUsers() async throws {
        try await withSandbox(SandboxConfiguration(generatedUsers: 250, seedUsers: false)) { _, client in
            var seen: [String] = []
            var start = 1
            while true {
                let r = try await client.send(.get, "/Users?startIndex=\(start)&count=40")
                XCTAssertEqual(r.json?["totalResults"], 250)
                XCTAssertEqual(r.json?["startIndex"]?.numberValue, Double(start))
                let names = userNames(r)
                XCTAssertEqual(r.json?["itemsPerPage"]?.numberValue, Double(names.count))
                if names.isEmpty { break }
                seen += names
                start += names.count
            }
            XCTAssertEqual(seen.count, 250)
            XCTAssertEqual(seen.first, "user00001")
            XCTAssertEqual(seen.last, "user00250")
            XCTAssertEqual(Set(seen).count, 250)
        }
    }

    func testStartIndexAndCountEdgeCases() async throws {
        try await withSandbox(SandboxConfiguration(generatedUsers: 20, seedUsers: false, maxPageSize: 15)) {
            _, client in
            let zero = try await client.send(.get, "/Users?startIndex=0&count=2")
            XCTAssertEqual(zero.json?["startIndex"], 1)
            XCTAssertEqual(userNames(zero), ["user00001", "user00002"])
            let negative = try await client.send(.get, "/Users?startIndex=-5&count=-3")
            XCTAssertEqual(negative.json?["startIndex"], 1)
            XCTAssertEqual(negative.json?["itemsPerPage"], 0)
            XCTAssertEqual(negative.json?["totalResults"], 20)
            XCTAssertEqual(negative.json?["Resources"], [])
            let countZero = try await client.send(.get, "/Users?count=0")
            XCTAssertEqual(countZero.json?["totalResults"], 20)
            XCTAssertEqual(countZero.json?["itemsPerPage"], 0)
            let capped = try await client.send(.get, "/Users?count=1000")
            XCTAssertEqual(capped.json?["itemsPerPage"], 15)
            let beyond = try await client.send(.get, "/Users?startIndex=21")
            XCTAssertEqual(beyond.json?["itemsPerPage"], 0)
            XCTAssertEqual(beyond.json?["totalResults"], 20)
            let huge = try await client.send(.get, "/Users?startIndex=99999999999999999999999")
            XCTAssertEqual(huge.status, 200)
            XCTAssertEqual(huge.json?["itemsPerPage"], 0)
            let last = try await client.send(.get, "/Users?startIndex=19&count=5")
            XCTAssertEqual(userNames(last), ["user00019", "user00020"])
        }
    }

    func testDefaultCountIs100() async throws {
        try await withSandbox(SandboxConfiguration(generatedUsers: 150, seedUsers: false)) { _, client in
            let r = try await client.send(.get, "/Users")
            XCTAssertEqual(r.json?["itemsPerPage"], 100)
            XCTAssertEqual(r.json?["totalResults"], 150)
        }
    }

    func testBadStartIndexOrCountTextIs400() async throws {
        try await withSandbox { _, client in
            for query in ["startIndex=abc", "count=1.5", "count=", "startIndex=%zz", "count=ten"] {
                assertSCIMError(try await client.send(.get, "/Users?\(query)"), 400, "invalidValue")
            }
        }
    }

    func testEqFilterIsCaseInsensitiveInAttributeOperatorAndValue() async throws {
        try await withSandbox { _, client in
            for filter in [#"userName eq "bjensen""#, #"USERNAME EQ "BJensen""#, #"username Eq "bjensen""#] {
                let r = try await client.send(.get, "/Users?filter=\(q(filter))")
                XCTAssertEqual(r.status, 200, r.text)
                XCTAssertEqual(userNames(r), ["bjensen"], filter)
                XCTAssertEqual(r.json?["totalResults"], 1)
            }
            let plus = try await client.send(.get, "/Users?filter=userName+eq+%22bjensen%22")
            XCTAssertEqual(userNames(plus), ["bjensen"], "+ is a space in a query")
        }
    }

    func testFilterFindsActiveUsersOnly() async throws {
        try await withSandbox { _, client in
            let r = try await client.send(.get, "/Users?filter=\(q(#"userName eq "okoval""#))")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.json?["totalResults"], 0)
            XCTAssertEqual(r.json?["Resources"], [])
        }
    }

    func testAndAndOtherAttributes() async throws {
        try await withSandbox { _, client in
            let r = try await client.send(
                .get, "/Users?filter=\(q(#"externalId eq "701984" and displayName eq "Barbara Jensen""#))")
            XCTAssertEqual(userNames(r), ["bjensen"])
            let none = try await client.send(
                .get, "/Users?filter=\(q(#"externalId eq "701984" and displayName eq "Someone Else""#))")
            XCTAssertEqual(none.json?["totalResults"], 0)
        }
    }

    func testEmailsValueFilter() async throws {
        try await withSandbox { _, client in
            let filter = #"emails[type eq "work" and value eq "bjensen@example.com"]"#
            let r = try await client.send(.get, "/Users?filter=\(q(filter))")
            XCTAssertEqual(r.status, 200, r.text)
            XCTAssertEqual(userNames(r), ["bjensen"])
            let other = try await client.send(.get, "/Users?filter=\(q(#"EMAILS[TYPE EQ "home"]"#))")
            XCTAssertEqual(other.json?["totalResults"], 0)
        }
    }

    func testUnsupportedOperatorsAreInvalidFilter() async throws {
        try await withSandbox { _, client in
            let filters = [
                #"userName co "jen""#, #"userName sw "b""#, #"userName ew "n""#, #"userName ne "x""#,
                "externalId pr", #"userName eq "a" or userName eq "b""#, #"not (userName eq "a")"#,
                #"meta.lastModified gt "2011-05-13T04:42:34Z""#, #"emails[value co "example"]"#,
            ]
            for filter in filters {
                let r = try await client.send(.get, "/Users?filter=\(q(filter))")
                assertSCIMError(r, 400, "invalidFilter")
            }
        }
    }

    func testMalformedFilterIsInvalidFilterWithTheParseMessage() async throws {
        try await withSandbox { _, client in
            for filter in [#"userName eq"#, #"userName eq "unterminated"#, "(((", #"userName eq "a" and"#, "= 5"] {
                let r = try await client.send(.get, "/Users?filter=\(q(filter))")
                assertSCIMError(r, 400, "invalidFilter")
                XCTAssertTrue(r.detail?.contains("column") ?? false, "the parser's position: \(r.text)")
            }
        }
    }

    func testEmptyFilterMeansNoFilter() async throws {
        try await withSandbox { _, client in
            let r = try await client.send(.get, "/Users?filter=&count=3")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.json?["totalResults"], 6)
        }
    }

    func testIgnoreUnsupportedFilterClausesEvaluatesOnlyTheEqParts() async throws {
        let config = SandboxConfiguration(ignoreUnsupportedFilterClauses: true)
        try await withSandbox(config) { _, client in
            let mixed = try await client.send(
                .get, "/Users?filter=\(q(#"userName eq "bjensen" and displayName co "Nobody""#))")
            XCTAssertEqual(mixed.status, 200, mixed.text)
            XCTAssertEqual(userNames(mixed), ["bjensen"], "the co clause is dropped, not applied")
            let onlyUnsupported = try await client.send(.get, "/Users?filter=\(q(#"userName sw "zzz""#))")
            XCTAssertEqual(onlyUnsupported.status, 200)
            XCTAssertEqual(onlyUnsupported.json?["totalResults"], 6, "nothing left: every active user")
            let malformed = try await client.send(.get, "/Users?filter=\(q("userName eq"))")
            assertSCIMError(malformed, 400, "invalidFilter")
        }
    }

    func testIgnoredQueryParametersAndTrailingSlash() async throws {
        try await withSandbox { _, client in
            let r = try await client.send(.get, "/Users/?attributes=userName&sortBy=userName&count=1")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.json?["itemsPerPage"], 1)
        }
    }

    func testListResourcesCarryLocation() async throws {
        let sandbox = Sandbox()
        try await sandbox.makeApplication().test(.router) { client in
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(admin)"
            let r = try await client.executeRequest(
                uri: base + "/Users?count=1", method: .get, headers: headers, body: nil)
            let json = try JSONParser.parse(String(buffer: r.body))
            let first = json["Resources"]?.arrayValue?.first
            XCTAssertEqual(first?["id"]?.stringValue, bjensenId)
            // The location is built from the request's Host (the router test framework uses "localhost").
            XCTAssertEqual(first?["meta"]?["location"]?.stringValue, "http://localhost\(base)/Users/\(bjensenId)")
        }
    }
}
