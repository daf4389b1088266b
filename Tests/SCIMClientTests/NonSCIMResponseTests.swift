import SCIMClient
import SCIMCore
import XCTest

/// Responses the sandbox cannot produce (ODM drops unknown attributes; a proxy answers HTML), served by a stub
/// transport.
final class NonSCIMResponseTests: XCTestCase {
    static let richUser = #"""
        {"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
         "id":"2819c223","externalId":"701984","userName":"bjensen",
         "name":{"formatted":"Ms. Barbara J Jensen, III","familyName":"Jensen","givenName":"Barbara"},
         "displayName":"Babs Jensen","active":true,
         "emails":[{"value":"bjensen@example.com","type":"work","primary":true}],
         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{
           "employeeNumber":"701984","department":"Tour Operations",
           "manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d","displayName":"John Smith"}},
         "x-custom":[1,2.5,null,false],
         "meta":{"resourceType":"User","created":"2010-01-23T04:56:22Z"}}
        """#

    func testGetKeepsAttributesTheClientDoesNotModel() async throws {
        let stub = StubTransport(status: 200, contentType: "application/scim+json", body: Self.richUser)
        let client = stub.client()
        let user = try await client.getUser(id: "2819c223")
        XCTAssertEqual(user.userName, "bjensen")
        XCTAssertEqual(user.email, "bjensen@example.com")
        XCTAssertEqual(user.attributes["name"]?["familyName"], "Jensen")
        XCTAssertEqual(user.attributes["name"]?["formatted"], "Ms. Barbara J Jensen, III")
        let enterprise = user.attributes[SCIMSchema.enterpriseUser]
        XCTAssertEqual(enterprise?["department"], "Tour Operations")
        XCTAssertEqual(enterprise?["manager"]?["displayName"], "John Smith")
        XCTAssertEqual(user.attributes["x-custom"], [1, 2.5, nil, false])
        // Nothing dropped, nothing reordered.
        XCTAssertEqual(
            user.attributes.keys,
            [
                "schemas", "id", "externalId", "userName", "name", "displayName", "active", "emails",
                SCIMSchema.enterpriseUser, "x-custom", "meta",
            ])
        XCTAssertEqual(user.json, try JSONParser.parse(Self.richUser))
        XCTAssertEqual(stub.requests.map(\.url), ["https://scim.example.test/api/v1/scim/Users/2819c223"])
    }

    func testListResponseKeepsUnknownAttributesAndCreateSendsThem() async throws {
        let list =
            #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"#
            + #""Resources":["# + Self.richUser + "]}"
        let stub = StubTransport { r in
            let body = r.method == "POST" ? Self.richUser : list
            return HTTPResponseData(
                status: r.method == "POST" ? 201 : 200, headers: [("Content-Type", "application/scim+json")],
                body: Array(body.utf8))
        }
        let client = stub.client()
        let page = try await client.findUsers(filter: #"userName eq "bjensen""#)
        XCTAssertEqual(page.totalResults, 1)
        XCTAssertEqual(page.startIndex, 1)  // missing counters are derived
        XCTAssertEqual(page.itemsPerPage, 1)
        XCTAssertEqual(page.resources.first?.attributes["name"]?["givenName"], "Barbara")

        // Writing a user back sends every attribute it has, the unknown ones included.
        let user = try XCTUnwrap(page.resources.first)
        let created = try await client.createUser(user)
        XCTAssertEqual(created, user)
        let sent = try XCTUnwrap(stub.requests.last?.body)
        let sentJSON = try JSONParser.parse(sent)
        XCTAssertEqual(sentJSON["name"]?["familyName"], "Jensen")
        XCTAssertEqual(sentJSON[SCIMSchema.enterpriseUser]?["employeeNumber"], "701984")
        XCTAssertEqual(stub.requests.last?.method, "POST")
    }

    func testCreateAddsTheCoreSchemaWhenMissing() async throws {
        let stub = StubTransport(status: 201, contentType: "application/scim+json", body: Self.richUser)
        var user = SCIMUser(attributes: JSONObject([("userName", "x"), ("displayName", "X"), ("active", true)]))
        user.attributes["schemas"] = nil
        _ = try await stub.client().createUser(user)
        let sent = try JSONParser.parse(try XCTUnwrap(stub.requests.first?.body))
        XCTAssertEqual(sent["schemas"], [.string(SCIMSchema.user)])
        XCTAssertEqual(sent["userName"], "x")
    }

    func testHTMLFromAProxyWith200IsAnInvalidResponse() async throws {
        let html = "<html><body><h1>Welcome to nginx!</h1></body></html>"
        let stub = StubTransport(status: 200, contentType: "text/html", body: html)
        let e = try await expectError { try await stub.client().getUser(id: "u-1") }
        XCTAssertTrue(e.isInvalidResponse, e.description)
        XCTAssertEqual(e.status, 200)
        XCTAssertTrue(e.detail.contains("text/html"), e.detail)
        XCTAssertTrue(e.detail.contains("Welcome to nginx!"), e.detail)
        XCTAssertTrue(
            e.description.hasPrefix("unexpected response (200 OK, body is not JSON (text/html"), e.description)
        XCTAssertTrue(e.description.hasSuffix("(GET /api/v1/scim/Users/u-1)"), e.description)
    }

    func testHTMLErrorPageIsAnHTTPErrorDescribingTheBody() async throws {
        let html = "<html>\n<head><title>504 Gateway Time-out</title></head>\n<body>nginx</body>\n</html>"
        let stub = StubTransport(status: 504, contentType: "text/html", body: html)
        let e = try await expectError { try await stub.client().findUsers() }
        XCTAssertTrue(e.isHTTPError)
        XCTAssertEqual(e.status, 504)
        XCTAssertTrue(e.detail.contains("504 Gateway Time-out"), e.detail)
        XCTAssertFalse(e.detail.contains("\n"), "newlines are flattened: \(e.detail)")
        XCTAssertTrue(e.description.hasPrefix("504 Gateway Timeout: body is not JSON (text/html, "), e.description)
    }

    func testEmpty502Body() async throws {
        let stub = StubTransport(status: 502, contentType: nil, body: "")
        let e = try await expectError { try await stub.client().getUser(id: "u-1") }
        XCTAssertTrue(e.isHTTPError)
        XCTAssertEqual(e.status, 502)
        XCTAssertEqual(e.detail, "empty body")
        XCTAssertEqual(e.description, "502 Bad Gateway: empty body (GET /api/v1/scim/Users/u-1)")
    }

    func testTruncatedJSON() async throws {
        let truncated = String(Self.richUser.prefix(120))
        let ok = StubTransport(status: 200, contentType: "application/scim+json", body: truncated)
        let e = try await expectError { try await ok.client().getUser(id: "u-1") }
        XCTAssertTrue(e.isInvalidResponse, e.description)
        XCTAssertTrue(e.detail.hasPrefix("body is not JSON (application/scim+json, 120 bytes; "), e.detail)

        let error = StubTransport(status: 500, contentType: "application/json", body: #"{"error":{"mess"#)
        let e500 = try await expectError { try await error.client().getUser(id: "u-1") }
        XCTAssertTrue(e500.isHTTPError)
        XCTAssertEqual(e500.status, 500)
        XCTAssertTrue(e500.detail.contains(#"{"error":{"mess"#), e500.detail)
        XCTAssertTrue(e500.detail.hasPrefix("body is not JSON (application/json, 15 bytes"), e500.detail)
    }

    func testJSONThatIsNotAUserOrAListResponse() async throws {
        let array = StubTransport(status: 200, contentType: "application/scim+json", body: "[1,2]")
        let user = try await expectError { try await array.client().getUser(id: "u-1") }
        XCTAssertTrue(user.isInvalidResponse)
        XCTAssertEqual(user.detail, "the body is not a SCIM User object")

        let noTotal = StubTransport(status: 200, contentType: "application/scim+json", body: #"{"Resources":[]}"#)
        let list = try await expectError { try await noTotal.client().findUsers() }
        XCTAssertTrue(list.isInvalidResponse)
        XCTAssertEqual(list.detail, "the body is not a SCIM ListResponse")
    }

    func testErrorBodyShapes() async throws {
        let cases: [(String, String?, String)] = [
            (
                #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"bad"}"#,
                "invalidValue", "bad"
            ),
            (#"{"error":{"message":"Token expired"}}"#, nil, "Token expired"),
            (#"{"error":"plain string"}"#, nil, "plain string"),
            (#"{"message":"spring style"}"#, nil, "spring style"),
            (#"{"something":"else"}"#, nil, "no detail in the error body"),
        ]
        for (body, scimType, detail) in cases {
            let stub = StubTransport(status: 400, contentType: "application/json", body: body)
            let e = try await expectError { try await stub.client().getUser(id: "u-1") }
            XCTAssertEqual(e.status, 400, body)
            XCTAssertEqual(e.scimType, scimType, body)
            XCTAssertEqual(e.detail, detail, body)
        }
    }

    func testATokenEchoedByTheServerIsScrubbed() async throws {
        let echo = StubTransport { r in
            let auth = r.headers.first { $0.name == "Authorization" || $0.name == "Genestack-API-Token" }?.value ?? ""
            let body = #"{"error":{"message":"token \#(auth) is not valid"}}"#
            return HTTPResponseData(
                status: 401, headers: [("Content-Type", "application/json")], body: Array(body.utf8))
        }
        for auth in [SCIMAuth.bearer(Tokens.admin), .apiToken(Tokens.admin)] {
            let e = try await expectError { try await echo.client(auth: auth).getUser(id: "u-1") }
            XCTAssertEqual(e.status, 401)
            XCTAssertTrue(e.detail.contains("****"), e.detail)
        }
        // Also in a body that is not JSON.
        let html = StubTransport { r in
            let auth = r.headers.first { $0.name == "Authorization" }?.value ?? ""
            return HTTPResponseData(
                status: 403, headers: [("Content-Type", "text/html")], body: Array("<p>\(auth) denied</p>".utf8))
        }
        let e = try await expectError { try await html.client().findUsers() }
        XCTAssertEqual(e.status, 403)
        XCTAssertTrue(e.detail.contains("Bearer ****"), e.detail)

        // And in a transport failure's reason.
        let failing = StubTransport { r in
            throw TransportFailure(
                reason: "proxy rejected \(r.headers.map(\.value).joined(separator: " "))", notSent: true)
        }
        let t = try await expectError { try await failing.client().getUser(id: "u-1") }
        XCTAssertTrue(t.isTransportError)
        XCTAssertTrue(t.detail.hasPrefix("proxy rejected"), t.detail)
    }

    func testTransportFailuresFromATransportAreRetriedOnlyWhenSafe() async throws {
        let notSent = StubTransport { _ in throw TransportFailure(reason: "connection refused", notSent: true) }
        let retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2))
        _ = try await expectError { try await notSent.client(retry: retry).createUser(self.newUser("a")) }
        XCTAssertEqual(notSent.requests.count, 3, "a request that never left may be retried, even a POST")

        let maybeSent = StubTransport { _ in
            throw TransportFailure(reason: "the server closed the connection", notSent: false)
        }
        let post = try await expectError { try await maybeSent.client(retry: retry).createUser(self.newUser("a")) }
        XCTAssertEqual(post.detail, "the server closed the connection")
        XCTAssertEqual(maybeSent.requests.count, 1, "a POST that may have arrived must not be sent twice")
        _ = try await expectError { try await maybeSent.client(retry: retry).getUser(id: "u-1") }
        XCTAssertEqual(maybeSent.requests.count, 4)
    }
}
