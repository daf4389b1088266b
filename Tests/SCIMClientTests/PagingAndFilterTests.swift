import SCIMClient
import SCIMCore
import SCIMSandbox
import XCTest

/// Paging with `findAll` and `findUsers`, and filters as the client encodes them.
final class PagingAndFilterTests: XCTestCase {
    func testFindAllVisitsEveryUserExactlyOnceWithSmallPages() async throws {
        try await withSandbox(generatedUsers: 250) { server, client in
            let expected = server.users().filter { $0["active"] == true }.compactMap { $0["id"]?.stringValue }
            XCTAssertGreaterThanOrEqual(expected.count, 250)
            let total = try await client.findUsers(count: 0).totalResults
            XCTAssertEqual(total, expected.count)

            server.clearLog()
            var ids: [String] = []
            for try await user in client.findAll(pageSize: 7) {
                ids.append(try XCTUnwrap(user.id))
            }
            XCTAssertEqual(ids.count, total)
            XCTAssertEqual(Set(ids).count, ids.count, "a user was returned twice")
            XCTAssertEqual(ids, expected)
            // One request per page, none after the last page.
            let gets = server.requestLog()
            XCTAssertEqual(gets.count, (total + 6) / 7)
            XCTAssertTrue(gets.allSatisfy { $0.method == "GET" && $0.status == 200 })
            XCTAssertEqual(gets.first?.uri, "/api/v1/scim/Users?startIndex=1&count=7")
            XCTAssertEqual(gets.dropFirst().first?.uri, "/api/v1/scim/Users?startIndex=8&count=7")
        }
    }

    /// A program that deletes or deactivates each user it lists (which leaves ODM's listing, as the sandbox's)
    /// reaches every user exactly once: plain `startIndex` paging skipped a page's worth of users per page.
    func testFindAllWhileDeletingOrDeactivatingEachUserReachesEveryUserOnce() async throws {
        for deactivate in [false, true] {
            try await withSandbox(generatedUsers: 95) { server, client in
                let expected = server.users().filter { $0["active"] == true }.compactMap { $0["id"]?.stringValue }
                XCTAssertGreaterThan(expected.count, 95)
                var ids: [String] = []
                for try await user in client.findAll(pageSize: 10) {
                    let id = try XCTUnwrap(user.id)
                    ids.append(id)
                    if deactivate {
                        _ = try await client.patchUser(
                            id: id, operations: [PatchOperation(op: .replace, path: "active", value: false)])
                    } else {
                        try await client.deleteUser(id: id)
                    }
                }
                XCTAssertEqual(ids, expected, deactivate ? "deactivating" : "deleting")
                let left = try await client.findUsers(count: 0).totalResults
                XCTAssertEqual(left, 0)
                // Early starts ask for the early positions on top of a page: no request brings only repeats.
                let listings = server.requestLog().filter { $0.method == "GET" && $0.uri.contains("startIndex") }
                XCTAssertLessThanOrEqual(listings.count, expected.count / 10 + 2)
            }
        }
    }

    func testFindAllFetchesPagesOnDemand() async throws {
        try await withSandbox(generatedUsers: 50) { server, client in
            server.clearLog()
            var iterator = client.findAll(pageSize: 10).makeAsyncIterator()
            for _ in 0..<10 { _ = try await iterator.next() }
            XCTAssertEqual(server.requestLog().count, 1)
            XCTAssertEqual(iterator.totalResults, 56)
            _ = try await iterator.next()
            XCTAssertEqual(server.requestLog().count, 2)
        }
    }

    func testFindAllWithAFilterAndAnEmptyResult() async throws {
        try await withSandbox(generatedUsers: 20) { server, client in
            var names: [String] = []
            for try await user in client.findAll(filter: #"userName eq "user00013""#, pageSize: 3) {
                names.append(user.userName ?? "")
            }
            XCTAssertEqual(names, ["user00013"])
            server.clearLog()
            var none = 0
            for try await _ in client.findAll(filter: #"userName eq "ghost""#) { none += 1 }
            XCTAssertEqual(none, 0)
            XCTAssertEqual(server.requestLog().count, 1)
        }
    }

    func testFindAllStopsWithTheErrorOfAFailingPage() async throws {
        try await withSandbox(generatedUsers: 30) { server, client in
            var seen = 0
            do {
                for try await _ in client.findAll(pageSize: 10) {
                    seen += 1
                    if seen == 10 { server.failNext(.internalServerError) }
                }
                XCTFail("expected the second page to fail")
            } catch let error as SCIMError {
                assertNoSecrets(error)
                XCTAssertEqual(error.status, 500)
                XCTAssertTrue(error.url.contains("startIndex=11"), error.url)
            }
            XCTAssertEqual(seen, 10)
        }
    }

    func testFindUsersStartIndexAndCountEdges() async throws {
        try await withSandbox(generatedUsers: 14) { server, client in
            let all = server.users().filter { $0["active"] == true }.compactMap { $0["id"]?.stringValue }
            let total = all.count  // 6 active seed users + 14

            let first = try await client.findUsers(startIndex: 1, count: 5)
            XCTAssertEqual(first.totalResults, total)
            XCTAssertEqual(first.itemsPerPage, 5)
            XCTAssertEqual(first.resources.map(\.id), Array(all[0..<5]))

            let middle = try await client.findUsers(startIndex: 6, count: 5)
            XCTAssertEqual(middle.startIndex, 6)
            XCTAssertEqual(middle.resources.map(\.id), Array(all[5..<10]))

            let last = try await client.findUsers(startIndex: total, count: 5)
            XCTAssertEqual(last.resources.map(\.id), [all[total - 1]])
            XCTAssertEqual(last.itemsPerPage, 1)

            let beyond = try await client.findUsers(startIndex: total + 1, count: 5)
            XCTAssertEqual(beyond.totalResults, total)
            XCTAssertEqual(beyond.resources, [])
            XCTAssertEqual(beyond.itemsPerPage, 0)

            let zeroCount = try await client.findUsers(count: 0)
            XCTAssertEqual(zeroCount.totalResults, total)
            XCTAssertEqual(zeroCount.resources, [])

            // ODM's rules: startIndex below 1 counts as 1, a negative count as 0.
            let zeroStart = try await client.findUsers(startIndex: 0, count: 2)
            XCTAssertEqual(zeroStart.startIndex, 1)
            XCTAssertEqual(zeroStart.resources.map(\.id), Array(all[0..<2]))
            let negative = try await client.findUsers(startIndex: -5, count: -1)
            XCTAssertEqual(negative.resources, [])
            XCTAssertEqual(negative.totalResults, total)

            // Without a count the server's default (100) applies: everything fits on one page here.
            let defaultCount = try await client.findUsers()
            XCTAssertEqual(defaultCount.resources.count, total)
            XCTAssertFalse(server.requestLog().last?.uri.contains("count=") ?? true)
        }
    }

    func testFilterAttributeNamesAndOperatorsAreCaseInsensitive() async throws {
        try await withSandbox { _, client in
            for filter in [#"USERNAME EQ "bjensen""#, #"userName Eq "bjensen""#, #"username eq "BJensen""#] {
                let page = try await client.findUsers(filter: filter)
                XCTAssertEqual(page.resources.map(\.userName), ["bjensen"], filter)
            }
            let and = try await client.findUsers(filter: #"userName eq "bjensen" AND active EQ true"#)
            XCTAssertEqual(and.resources.map(\.id), [Seed.bjensen])
            let andNoMatch = try await client.findUsers(filter: #"userName eq "bjensen" and active eq false"#)
            XCTAssertEqual(andNoMatch.totalResults, 0)
        }
    }

    func testEmailsValueFilter() async throws {
        try await withSandbox { _, client in
            let page = try await client.findUsers(
                filter: #"emails[type eq "work" and value eq "bjensen@example.com"]"#)
            XCTAssertEqual(page.resources.map(\.id), [Seed.bjensen])
            let upper = try await client.findUsers(
                filter: #"EMAILS[TYPE EQ "work" AND VALUE EQ "bjensen@example.com"]"#)
            XCTAssertEqual(upper.resources.map(\.id), [Seed.bjensen])
            let none = try await client.findUsers(filter: #"emails[type eq "home" and value eq "bjensen@example.com"]"#)
            XCTAssertEqual(none.totalResults, 0)
            // The deactivated seed user is never listed, even when the filter matches it.
            let inactive = try await client.findUsers(filter: #"emails[value eq "olena.koval@example.org"]"#)
            XCTAssertEqual(inactive.totalResults, 0)
        }
    }

    func testFiltersWithQuotesSpacesAndUnicodeRoundTrip() async throws {
        try await withSandbox { server, client in
            let page = try await client.findUsers(filter: #"displayName eq "María García""#)
            XCTAssertEqual(page.resources.map(\.id), [Seed.mgarcia])
            XCTAssertEqual(
                server.requestLog().last?.uri,
                "/api/v1/scim/Users?filter=displayName%20eq%20%22Mar%C3%ADa%20Garc%C3%ADa%22&startIndex=1")

            // Characters that mean something in a query string must survive: + & = % # and an escaped quote.
            let tricky = #"a+b&c=d%20e#f "q""#
            let created = try await client.createUser(newUser("tricky", displayName: tricky))
            let filter = "displayName eq \(JSONEncoderFast.quote(tricky))"
            let found = try await client.findUsers(filter: filter)
            XCTAssertEqual(found.resources.map(\.id), [created.id])
            XCTAssertEqual(found.resources.first?.displayName, tricky)
        }
    }

    func testQueryEncodingOfTheRequestURL() async throws {
        try await withSandbox { server, client in
            let r = client.request("GET", path: "/Users", query: [("filter", #"userName eq "ä ö/+&""#)])
            XCTAssertEqual(
                r.url,
                "http://127.0.0.1:\(server.port)/api/v1/scim/Users?filter=userName%20eq%20%22%C3%A4%20%C3%B6%2F%2B%26%22"
            )
        }
    }

    func testFindAllCopesWithAServerThatCapsThePageSize() async throws {
        try await withSandbox(generatedUsers: 30, configure: { $0.maxPageSize = 7 }) { server, client in
            server.clearLog()
            var ids: [String] = []
            for try await user in client.findAll(pageSize: 100) { ids.append(user.id ?? "") }
            XCTAssertEqual(ids.count, 36)
            XCTAssertEqual(Set(ids).count, 36)
            XCTAssertEqual(server.requestLog().count, 6)  // 36 users, 7 per page
            XCTAssertEqual(server.requestLog().last?.uri, "/api/v1/scim/Users?startIndex=36&count=100")
        }
    }

    /// An empty page where totalResults promises more ends the listing, with an error: it may be incomplete.
    func testFindAllEndsOnAnEmptyPageEvenIfTotalResultsSaysMore() async throws {
        let stub = StubTransport { _ in
            let body =
                #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":500,"Resources":[]}"#
            return HTTPResponseData(status: 200, headers: [], body: Array(body.utf8))
        }
        var count = 0
        do {
            for try await _ in stub.client().findAll(pageSize: 10) { count += 1 }
            XCTFail("a listing that stops short of its totalResults must not end silently")
        } catch {
            let text = error.description
            XCTAssertTrue(text.contains("counts 500 users (totalResults) but sent none"), text)
        }
        XCTAssertEqual(count, 0)
        XCTAssertEqual(stub.requests.count, 1)
    }
}
