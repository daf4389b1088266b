import Foundation
import SCIMCore
import XCTest

@testable import SCIMClient

/// Configuration, credentials in text, URL encoding, backoff and Retry-After: pure functions.
final class ConfigurationTests: XCTestCase {
    func testAuthDescriptionHidesTheToken() {
        XCTAssertEqual(SCIMAuth.bearer(Tokens.admin).description, "bearer ****")
        XCTAssertEqual(SCIMAuth.apiToken(Tokens.admin).description, "api-token ****")
        XCTAssertEqual(SCIMAuth.none.description, "none")
        for auth in [SCIMAuth.bearer(Tokens.admin), .apiToken(Tokens.admin)] {
            XCTAssertFalse(String(describing: auth).contains(Tokens.admin))
            XCTAssertFalse(String(reflecting: auth).contains(Tokens.admin))
            XCTAssertFalse("\(auth)".contains(Tokens.admin))
            XCTAssertEqual(auth.secret, Tokens.admin)
        }
        XCTAssertNil(SCIMAuth.bearer("").secret)
        XCTAssertNil(SCIMAuth.none.header)
        XCTAssertEqual(SCIMAuth.bearer("t0k").header?.name, "Authorization")
        XCTAssertEqual(SCIMAuth.bearer("t0k").header?.value, "Bearer t0k")
        XCTAssertEqual(SCIMAuth.apiToken("t0k").header?.name, "Genestack-API-Token")
        XCTAssertEqual(SCIMAuth.apiToken("t0k").header?.value, "t0k")
    }

    func testConfigurationDescriptionHidesTheToken() {
        let bearer = SCIMConfiguration(host: "https://odm.example.com", auth: .bearer(Tokens.admin))
        XCTAssertEqual(bearer.description, "https://odm.example.com/api/v1/scim (auth: bearer ****)")
        let api = SCIMConfiguration(host: "http://127.0.0.1:8080/", basePath: "scim/v2/", auth: .apiToken(Tokens.admin))
        XCTAssertEqual(api.description, "http://127.0.0.1:8080/scim/v2 (auth: api-token ****)")
        for config in [bearer, api] {
            XCTAssertFalse(String(describing: config).contains(Tokens.admin))
            XCTAssertFalse(String(reflecting: config).contains(Tokens.admin))
        }
    }

    func testConfigurationDefaultsAndBaseURL() {
        let c = SCIMConfiguration(host: "https://odm.example.com")
        XCTAssertEqual(c.basePath, "/api/v1/scim")
        XCTAssertEqual(c.timeout, .seconds(30))
        XCTAssertEqual(c.retry, .standard)
        XCTAssertEqual(c.userAgent, "scimsh/\(SCIMClientVersion.current)")
        XCTAssertEqual(c.auth, SCIMAuth.none)
        XCTAssertEqual(SCIMConfiguration(host: "http://h//", basePath: "/").baseURL, "http://h")
        XCTAssertEqual(SCIMConfiguration(host: "http://h", basePath: "").baseURL, "http://h")
        XCTAssertEqual(SCIMConfiguration(host: "http://h/", basePath: "/scim/v2").baseURL, "http://h/scim/v2")

        let root = SCIMClient(
            configuration: SCIMConfiguration(host: "http://h:1", basePath: "/"),
            transport: StubTransport { _ in
                HTTPResponseData(status: 500, headers: [], body: [])
            })
        XCTAssertEqual(root.request("GET", path: "/Users").url, "http://h:1/Users")
    }

    func testMaskedHeaders() {
        let r = HTTPRequestData(
            method: "GET", url: "http://h/Users",
            headers: [
                ("Accept", "application/scim+json"), ("Authorization", "Bearer \(Tokens.admin)"),
                ("Genestack-API-Token", Tokens.admin), ("authorization", Tokens.admin), ("Cookie", "session=abc"),
                ("X-API-Key", "k"), ("User-Agent", "scimsh/x"),
            ], body: nil)
        let masked = r.maskedHeaders
        XCTAssertEqual(masked.map(\.name), r.headers.map(\.name))
        XCTAssertEqual(
            masked.map(\.value),
            ["application/scim+json", "Bearer ****", "****", "****", "****", "****", "scimsh/x"])
        XCTAssertEqual(r.headers[1].value, "Bearer \(Tokens.admin)", "the request itself is unchanged")
    }

    func testRequestDescriptionHidesCredentials() {
        let client = SCIMClient(
            configuration: SCIMConfiguration(host: "http://h", auth: .bearer(Tokens.admin)),
            transport: StubTransport { _ in HTTPResponseData(status: 204, headers: [], body: []) })
        let r = client.request("GET", path: "/Users")
        XCTAssertTrue(r.headers.contains { $0.value == "Bearer \(Tokens.admin)" })
        XCTAssertFalse(String(describing: r).contains(Tokens.admin), String(describing: r))
        XCTAssertFalse(String(reflecting: r).contains(Tokens.admin))
        XCTAssertTrue(String(describing: r).contains("GET http://h/api/v1/scim/Users"), String(describing: r))
    }

    func testURLEncoding() {
        XCTAssertEqual(URLEncoding.queryComponent("abc-._~XYZ019"), "abc-._~XYZ019")
        XCTAssertEqual(URLEncoding.queryComponent(#"userName eq "b j""#), "userName%20eq%20%22b%20j%22")
        XCTAssertEqual(URLEncoding.queryComponent("a+b&c=d/e?f#g%h"), "a%2Bb%26c%3Dd%2Fe%3Ff%23g%25h")
        XCTAssertEqual(URLEncoding.queryComponent("María"), "Mar%C3%ADa")
        XCTAssertEqual(URLEncoding.queryComponent("日本"), "%E6%97%A5%E6%9C%AC")
        XCTAssertEqual(URLEncoding.queryComponent("🙂"), "%F0%9F%99%82")
        XCTAssertEqual(URLEncoding.queryComponent(""), "")

        XCTAssertEqual(URLEncoding.pathSegment("2819c223-7f76"), "2819c223-7f76")
        XCTAssertEqual(URLEncoding.pathSegment("a/b"), "a%2Fb")
        XCTAssertEqual(URLEncoding.pathSegment("../x"), "..%2Fx")
        XCTAssertEqual(URLEncoding.pathSegment("user@example.com:1"), "user@example.com:1")
        XCTAssertEqual(URLEncoding.pathSegment("a b?c#d%e"), "a%20b%3Fc%23d%25e")
        XCTAssertEqual(URLEncoding.pathSegment("ü"), "%C3%BC")
    }

    func testFindUsersQuery() {
        let client = SCIMClient(
            configuration: SCIMConfiguration(host: "http://h"),
            transport: StubTransport { _ in HTTPResponseData(status: 204, headers: [], body: []) })
        let r = client.request(
            "GET", path: "/Users", query: [("filter", #"emails[value eq "a+b@x.org"]"#), ("startIndex", "1")])
        XCTAssertEqual(
            r.url, "http://h/api/v1/scim/Users?filter=emails%5Bvalue%20eq%20%22a%2Bb%40x.org%22%5D&startIndex=1")
    }

    func testRetryPolicyDelays() {
        let p = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        XCTAssertEqual(p.delay(attempt: 1, retryAfter: nil), .milliseconds(100))
        XCTAssertEqual(p.delay(attempt: 2, retryAfter: nil), .milliseconds(200))
        XCTAssertEqual(p.delay(attempt: 3, retryAfter: nil), .milliseconds(400))
        XCTAssertEqual(p.delay(attempt: 4, retryAfter: nil), .milliseconds(800))
        XCTAssertEqual(p.delay(attempt: 5, retryAfter: nil), .seconds(1))
        XCTAssertEqual(p.delay(attempt: 1000, retryAfter: nil), .seconds(1), "no overflow for large attempts")
        XCTAssertEqual(p.delay(attempt: 0, retryAfter: nil), .milliseconds(100))
        // Retry-After wins over backoff, within the cap.
        XCTAssertEqual(p.delay(attempt: 1, retryAfter: .milliseconds(700)), .milliseconds(700))
        XCTAssertEqual(p.delay(attempt: 4, retryAfter: .zero), .zero)
        XCTAssertEqual(p.delay(attempt: 1, retryAfter: .seconds(120)), .seconds(1))

        XCTAssertEqual(RetryPolicy(maxAttempts: 0).maxAttempts, 1)
        XCTAssertEqual(RetryPolicy(maxAttempts: -3).maxAttempts, 1)
        XCTAssertEqual(RetryPolicy.none.maxAttempts, 1)
        XCTAssertEqual(RetryPolicy.standard.maxAttempts, 4)
        XCTAssertEqual(RetryPolicy.standard.delay(attempt: 1, retryAfter: nil), .milliseconds(200))
        XCTAssertEqual(RetryPolicy.standard.delay(attempt: 3, retryAfter: nil), .milliseconds(800))
        XCTAssertEqual(RetryPolicy.standard.delay(attempt: 9, retryAfter: nil), .seconds(5))
    }

    func testParseRetryAfterSeconds() {
        XCTAssertEqual(SCIMClient.parseRetryAfter("0"), 0)
        XCTAssertEqual(SCIMClient.parseRetryAfter("120"), 120)
        XCTAssertEqual(SCIMClient.parseRetryAfter(" 5 "), 5)
        XCTAssertEqual(SCIMClient.parseRetryAfter("1.5"), 1.5)
        XCTAssertNil(SCIMClient.parseRetryAfter("-1"))
        XCTAssertNil(SCIMClient.parseRetryAfter(""))
        XCTAssertNil(SCIMClient.parseRetryAfter("soon"))
        XCTAssertNil(SCIMClient.parseRetryAfter("inf"))
        XCTAssertNil(SCIMClient.parseRetryAfter("nan"))
    }

    func testParseRetryAfterHTTPDates() {
        XCTAssertEqual(SCIMClient.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), 0, "a past date means now")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let future = formatter.string(from: Date().addingTimeInterval(120))
        let seconds = try? XCTUnwrap(SCIMClient.parseRetryAfter(future), future)
        XCTAssertEqual(seconds ?? -1, 120, accuracy: 2, future)
        let farFuture = formatter.string(from: Date().addingTimeInterval(86_400 * 40))
        XCTAssertEqual(SCIMClient.parseRetryAfter(farFuture) ?? -1, 86_400 * 40, accuracy: 2, farFuture)

        XCTAssertNil(SCIMClient.parseRetryAfter("Wed, 21 Foo 2015 07:28:00 GMT"))
        XCTAssertNil(SCIMClient.parseRetryAfter("Wed, 21 Oct 2015 07:28 GMT"))
        XCTAssertNil(SCIMClient.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 PST"))
        XCTAssertNil(SCIMClient.parseRetryAfter("Wednesday, 21-Oct-15 07:28:00"))
    }

    func testErrorDescriptionsOfEveryKind() {
        let url = "http://127.0.0.1:8080/api/v1/scim/Users/u-42"
        XCTAssertEqual(
            SCIMError.http(
                status: 404, scimType: nil, detail: "There are no users with the specified id", method: "GET", url: url
            ).description,
            "404 Not Found: There are no users with the specified id (GET /api/v1/scim/Users/u-42)")
        XCTAssertEqual(
            SCIMError.http(status: 400, scimType: "mutability", detail: "d", method: "PATCH", url: url).description,
            "400 Bad Request [mutability]: d (PATCH /api/v1/scim/Users/u-42)")
        XCTAssertEqual(
            SCIMError.http(status: 418, scimType: "", detail: "d", method: "GET", url: url).description,
            "418 HTTP 418: d (GET /api/v1/scim/Users/u-42)")
        XCTAssertEqual(
            SCIMError.transport("connection refused", method: "GET", url: url).description,
            "cannot reach the server: connection refused (GET \(url))")
        XCTAssertEqual(
            SCIMError.invalidResponse(status: nil, detail: "d", method: "GET", url: url).description,
            "unexpected response (d) (GET /api/v1/scim/Users/u-42)")
        XCTAssertEqual(
            SCIMError.cancelled(method: "DELETE", url: url).description, "cancelled (DELETE /api/v1/scim/Users/u-42)")
        XCTAssertEqual(SCIMError.http(status: 500, scimType: nil, detail: "", method: "GET", url: "http://h").path, "/")
        XCTAssertTrue(SCIMError.cancelled(method: "GET", url: url).isCancelled)
    }
}
