import SCIMClient
import SCIMCore
import SCIMSandbox
import XCTest

/// Every documented error status, produced by the sandbox and read by the client.
final class ErrorStatusTests: XCTestCase {
    func test404UnknownIdDescriptionIsExact() async throws {
        try await withSandbox { _, client in
            let error = try await expectError { try await client.getUser(id: "u-42") }
            XCTAssertTrue(error.isHTTPError)
            XCTAssertEqual(error.status, 404)
            XCTAssertNil(error.scimType)
            XCTAssertEqual(error.detail, "There are no users with the specified id")
            XCTAssertEqual(error.method, "GET")
            XCTAssertTrue(error.url.hasSuffix("/api/v1/scim/Users/u-42"), error.url)
            XCTAssertEqual(error.path, "/api/v1/scim/Users/u-42")
            XCTAssertEqual(
                String(describing: error),
                "404 Not Found: There are no users with the specified id (GET /api/v1/scim/Users/u-42)")
        }
    }

    func test404ForPatchAndDeleteOfAnUnknownId() async throws {
        try await withSandbox { _, client in
            let patch = try await expectError {
                try await client.patchUser(id: "u-42", operations: [.init(op: .replace, path: "active", value: true)])
            }
            XCTAssertEqual(
                patch.description,
                "404 Not Found: There are no users with the specified id (PATCH /api/v1/scim/Users/u-42)")
            let delete = try await expectError { try await client.deleteUser(id: "u-42") }
            XCTAssertEqual(
                delete.description,
                "404 Not Found: There are no users with the specified id (DELETE /api/v1/scim/Users/u-42)")
        }
    }

    func test404ForADeactivatedUser() async throws {
        try await withSandbox { _, client in
            let error = try await expectError { try await client.getUser(id: Seed.okoval) }
            XCTAssertEqual(error.status, 404)
            XCTAssertEqual(error.detail, "There are no users with the specified id")
            let delete = try await expectError { try await client.deleteUser(id: Seed.okoval) }
            XCTAssertEqual(delete.status, 404)
        }
    }

    func test400InvalidFilter() async throws {
        try await withSandbox { _, client in
            let unsupported = try await expectError { try await client.findUsers(filter: #"userName co "jen""#) }
            XCTAssertEqual(unsupported.status, 400)
            XCTAssertEqual(unsupported.scimType, "invalidFilter")
            XCTAssertTrue(unsupported.detail.contains("'co'"), unsupported.detail)
            XCTAssertTrue(
                unsupported.description.hasPrefix("400 Bad Request [invalidFilter]: "), unsupported.description)
            XCTAssertTrue(unsupported.description.hasSuffix("&startIndex=1)"), unsupported.description)

            let malformed = try await expectError { try await client.findUsers(filter: "userName eq") }
            XCTAssertEqual(malformed.status, 400)
            XCTAssertEqual(malformed.scimType, "invalidFilter")

            for filter in [#"userName eq "a" or userName eq "b""#, "userName pr", #"not (userName eq "a")"#] {
                let e = try await expectError { try await client.findUsers(filter: filter) }
                XCTAssertEqual(e.status, 400, filter)
                XCTAssertEqual(e.scimType, "invalidFilter", filter)
            }
        }
    }

    func test400InvalidValueOnCreateAndPatch() async throws {
        try await withSandbox { server, client in
            let count = server.sandbox.userCount
            var noEmail = newUser("no.email")
            noEmail.attributes["emails"] = nil
            let create = try await expectError { try await client.createUser(noEmail) }
            XCTAssertEqual(create.status, 400)
            XCTAssertEqual(create.scimType, "invalidValue")
            XCTAssertEqual(create.detail, "Attribute 'emails' is required")
            XCTAssertEqual(create.method, "POST")
            XCTAssertEqual(
                create.description,
                "400 Bad Request [invalidValue]: Attribute 'emails' is required (POST /api/v1/scim/Users)")

            var badActive = newUser("bad.active")
            badActive.attributes["active"] = "yes"
            let active = try await expectError { try await client.createUser(badActive) }
            XCTAssertEqual(active.scimType, "invalidValue")
            XCTAssertTrue(active.detail.contains("'active'"), active.detail)
            XCTAssertEqual(server.sandbox.userCount, count)

            let patch = try await expectError {
                try await client.patchUser(
                    id: Seed.bjensen, operations: [.init(op: .remove, path: "userName", value: nil)])
            }
            XCTAssertEqual(patch.status, 400)
            XCTAssertEqual(patch.scimType, "invalidValue")
        }
    }

    func test400MutabilityForIdAndMeta() async throws {
        try await withSandbox { _, client in
            for path in ["id", "meta"] {
                let e = try await expectError {
                    try await client.patchUser(
                        id: Seed.bjensen, operations: [.init(op: .replace, path: path, value: "x")])
                }
                XCTAssertEqual(e.status, 400)
                XCTAssertEqual(e.scimType, "mutability")
                XCTAssertEqual(e.detail, "Attribute '\(path)' is read-only")
            }
            let pathless = try await expectError {
                try await client.patchUser(
                    id: Seed.bjensen, operations: [.init(op: .replace, path: nil, value: ["id": "x"])])
            }
            XCTAssertEqual(pathless.scimType, "mutability")
            let fetched1 = try await client.getUser(id: Seed.bjensen)
            XCTAssertEqual(fetched1.id, Seed.bjensen)
        }
    }

    func test401ReadsTheNonSCIMErrorBody() async throws {
        try await withSandbox(auth: .bearer(Tokens.wrong)) { server, client in
            let message =
                "Authentication required: send a valid token as 'Authorization: Bearer TOKEN' "
                + "or 'Genestack-API-Token: TOKEN'"
            let e = try await expectError { try await client.getUser(id: Seed.bjensen) }
            XCTAssertEqual(e.status, 401)
            XCTAssertNil(e.scimType)
            XCTAssertEqual(e.detail, message)
            XCTAssertEqual(e.description, "401 Unauthorized: \(message) (GET /api/v1/scim/Users/\(Seed.bjensen))")

            // The same with the other header, and with no credentials at all.
            for auth in [SCIMAuth.apiToken(Tokens.wrong), .none] {
                var config = client.configuration
                config.auth = auth
                let other = client.with(configuration: config, observer: nil)
                let e2 = try await expectError { try await other.findUsers() }
                XCTAssertEqual(e2.status, 401, "\(auth)")
                XCTAssertEqual(e2.detail, message)
            }
            // A POST with a bad token creates nothing and is not retried.
            let count = server.sandbox.userCount
            server.clearLog()
            let post = try await expectError { try await client.createUser(newUser("intruder")) }
            XCTAssertEqual(post.status, 401)
            XCTAssertEqual(server.sandbox.userCount, count)
            XCTAssertEqual(statuses(server), [401])
        }
    }

    func test403WithTheLimitedTokenOnEveryOperation() async throws {
        let detail = #"The token's user does not have the "Manage organization" permission"#
        for auth in [SCIMAuth.bearer(Tokens.limited), .apiToken(Tokens.limited)] {
            try await withSandbox(auth: auth) { server, client in
                var errors: [SCIMError] = []
                errors.append(try await expectError { try await client.createUser(newUser("limited")) })
                errors.append(try await expectError { try await client.findUsers() })
                errors.append(try await expectError { try await client.getUser(id: Seed.bjensen) })
                errors.append(
                    try await expectError {
                        try await client.patchUser(
                            id: Seed.bjensen, operations: [.init(op: .replace, path: "active", value: false)])
                    })
                errors.append(try await expectError { try await client.deleteUser(id: Seed.bjensen) })
                XCTAssertEqual(errors.map(\.status), [403, 403, 403, 403, 403])
                XCTAssertEqual(errors.map(\.detail), Array(repeating: detail, count: 5))
                XCTAssertEqual(errors.map(\.method), ["POST", "GET", "GET", "PATCH", "DELETE"])
                XCTAssertEqual(
                    errors[2].description, "403 Forbidden: \(detail) (GET /api/v1/scim/Users/\(Seed.bjensen))")
                XCTAssertEqual(server.sandbox.user(id: Seed.bjensen)?["active"], true)
                XCTAssertEqual(server.requestLog().filter(\.changedStore), [])
            }
        }
    }

    func test409ExternalIdClash() async throws {
        try await withSandbox { server, client in
            let count = server.sandbox.userCount
            // 701984 is bjensen's externalId.
            let e = try await expectError { try await client.createUser(newUser("clasher", externalId: "701984")) }
            XCTAssertEqual(e.status, 409)
            XCTAssertEqual(e.scimType, "uniqueness")
            XCTAssertEqual(e.detail, "externalId '701984' already belongs to another user")
            XCTAssertEqual(
                e.description,
                "409 Conflict [uniqueness]: externalId '701984' already belongs to another user (POST /api/v1/scim/Users)"
            )
            XCTAssertEqual(server.sandbox.userCount, count)

            let patch = try await expectError {
                try await client.patchUser(
                    id: Seed.alice, operations: [.init(op: .replace, path: "userName", value: "bjensen")])
            }
            XCTAssertEqual(patch.status, 409)
            XCTAssertEqual(patch.scimType, "uniqueness")
            let fetched2 = try await client.getUser(id: Seed.alice)
            XCTAssertEqual(fetched2.userName, "alice.martin")
        }
    }

    func test500ReadsTheNonSCIMErrorBodyAndIsNotRetried() async throws {
        try await withSandbox { server, client in
            server.failNext(.internalServerError)
            server.clearLog()
            let e = try await expectError { try await client.getUser(id: Seed.bjensen) }
            XCTAssertEqual(e.status, 500)
            XCTAssertEqual(e.detail, "Internal server error (injected by the scimsh sandbox)")
            XCTAssertEqual(
                e.description,
                "500 Internal Server Error: Internal server error (injected by the scimsh sandbox) "
                    + "(GET /api/v1/scim/Users/\(Seed.bjensen))")
            XCTAssertEqual(statuses(server), [500])

            server.failNext(.internalServerError)
            let post = try await expectError { try await client.createUser(newUser("five.hundred")) }
            XCTAssertEqual(post.status, 500)
            XCTAssertEqual(post.method, "POST")
            // The next request goes through.
            let fetched3 = try await client.getUser(id: Seed.bjensen)
            XCTAssertEqual(fetched3.userName, "bjensen")
        }
    }

    func testIdsAreEscapedAsOnePathSegment() async throws {
        try await withSandbox { server, client in
            let e = try await expectError { try await client.getUser(id: "a/b c?d#e") }
            XCTAssertTrue(e.url.hasSuffix("/Users/a%2Fb%20c%3Fd%23e"), e.url)
            // The sandbox sees one id (not another route) and answers that no user has it.
            XCTAssertEqual(e.status, 404)
            XCTAssertEqual(e.detail, "There are no users with the specified id")
            XCTAssertEqual(server.requestLog().last?.uri, "/api/v1/scim/Users/a%2Fb%20c%3Fd%23e")

            let empty = try await expectError { try await client.getUser(id: "") }
            XCTAssertTrue(empty.isInvalidRequest)
            XCTAssertEqual(empty.detail, "empty user id")
        }
    }

    func testRequestsAreNotSentForAnEmptyId() async throws {
        try await withSandbox { server, client in
            server.clearLog()
            _ = try await expectError { try await client.deleteUser(id: "") }
            _ = try await expectError {
                try await client.patchUser(id: "", operations: [.init(op: .replace, path: "active", value: false)])
            }
            XCTAssertEqual(server.requestLog(), [])
        }
    }

    /// Each of the five operations, as a closure that must fail.
    func everyOperation(_ client: SCIMClient) -> [(String, () async throws -> Void)] {
        [
            ("POST", { _ = try await client.createUser(self.newUser("every.op")) }),
            ("GET", { _ = try await client.findUsers() }),
            ("GET", { _ = try await client.getUser(id: Seed.bjensen) }),
            (
                "PATCH",
                {
                    _ = try await client.patchUser(
                        id: Seed.bjensen, operations: [.init(op: .replace, path: "displayName", value: "X")])
                }
            ),
            ("DELETE", { try await client.deleteUser(id: Seed.bjensen) }),
        ]
    }

    func test401OnEveryOperation() async throws {
        try await withSandbox(auth: .apiToken(Tokens.wrong)) { server, client in
            for (method, operation) in everyOperation(client) {
                let e = try await expectError { try await operation() }
                XCTAssertEqual(e.status, 401, method)
                XCTAssertEqual(e.method, method)
                XCTAssertTrue(e.detail.hasPrefix("Authentication required"), e.detail)
            }
            XCTAssertEqual(statuses(server), [401, 401, 401, 401, 401])
            XCTAssertEqual(server.sandbox.user(id: Seed.bjensen)?["active"], true)
        }
    }

    func test500OnEveryOperation() async throws {
        try await withSandbox { server, client in
            server.clearLog()
            for (method, operation) in everyOperation(client) {
                server.failNext(.internalServerError)
                let e = try await expectError { try await operation() }
                XCTAssertEqual(e.status, 500, method)
                XCTAssertEqual(e.method, method)
                XCTAssertEqual(e.detail, "Internal server error (injected by the scimsh sandbox)")
            }
            // 500 is not retried, whatever the method.
            XCTAssertEqual(statuses(server), [500, 500, 500, 500, 500])
        }
    }
}
