import Foundation
import SCIMCore
import SCIMSandbox
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The sandbox over real loopback TCP, as the client and the shell use it.
final class LoopbackTests: XCTestCase {
    struct HTTPResult {
        var status: Int
        var headers: [String: String]
        var body: String
        var json: JSONValue? { try? JSONParser.parse(body) }
    }

    func request(
        _ method: String, _ url: String, headers: [String: String] = ["Authorization": "Bearer \(admin)"],
        body: String? = nil
    ) async throws -> HTTPResult {
        var request = URLRequest(url: try XCTUnwrap(URL(string: url)))
        request.httpMethod = method
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/scim+json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields {
            if let k = k as? String, let v = v as? String { fields[k.lowercased()] = v }
        }
        return HTTPResult(status: http.statusCode, headers: fields, body: String(decoding: data, as: UTF8.self))
    }

    func assertStatus(_ r: HTTPResult, _ status: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, status, r.body, file: file, line: line)
    }

    func testStartsOnAFreePortAndServesEveryOperation() async throws {
        let server = try await SandboxServer.start(SandboxConfiguration())
        do {
            XCTAssertGreaterThan(server.port, 0)
            XCTAssertEqual(server.baseURL, "http://127.0.0.1:\(server.port)/api/v1/scim")
            let users = server.baseURL + "/Users"

            let created = try await request("POST", users, body: JSONEncoderFast.encode(userBody("loop")))
            XCTAssertEqual(created.status, 201, created.body)
            XCTAssertEqual(created.headers["content-type"], "application/scim+json")
            let id = try XCTUnwrap(created.json?["id"]?.stringValue)
            XCTAssertEqual(created.headers["location"], "\(users)/\(id)")
            XCTAssertEqual(created.json?["meta"]?["location"]?.stringValue, "\(users)/\(id)")

            let got = try await request("GET", "\(users)/\(id)", headers: ["Genestack-API-Token": admin])
            XCTAssertEqual(got.status, 200)
            XCTAssertEqual(got.json?["userName"], "loop")

            let found = try await request("GET", users + "?filter=userName%20eq%20%22LOOP%22")
            XCTAssertEqual(found.json?["totalResults"], 1)

            let patched = try await request(
                "PATCH", "\(users)/\(id)",
                body: JSONEncoderFast.encode(patchBody(["op": "replace", "value": ["displayName": "Looped"]])))
            XCTAssertEqual(patched.status, 200)
            XCTAssertEqual(patched.json?["displayName"], "Looped")

            let deleted = try await request("DELETE", "\(users)/\(id)")
            XCTAssertEqual(deleted.status, 204)
            XCTAssertEqual(deleted.body, "")
            assertStatus(try await request("GET", "\(users)/\(id)"), 404)

            let unauthorized = try await request("GET", users, headers: [:])
            XCTAssertEqual(unauthorized.status, 401)
            XCTAssertNotNil(unauthorized.json?["error"]?["message"]?.stringValue)

            XCTAssertEqual(server.users().first { $0["id"]?.stringValue == id }?["active"], false)
            XCTAssertEqual(server.requestLog().filter(\.isWrite).map(\.method), ["POST", "PATCH", "DELETE"])
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func testInjected503OverTheWire() async throws {
        let server = try await SandboxServer.start(SandboxConfiguration(failFirst: 1, retryAfterSeconds: 2))
        let first = try await request("GET", server.baseURL + "/Users/\(bjensenId)")
        let second = try await request("GET", server.baseURL + "/Users/\(bjensenId)")
        server.failNext(.internalServerError)
        let third = try await request("GET", server.baseURL + "/Users/\(bjensenId)")
        await server.stop()
        XCTAssertEqual(first.status, 503)
        XCTAssertEqual(first.headers["retry-after"], "2")
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(third.status, 500)
        XCTAssertEqual(third.json?["error"]?["message"]?.stringValue?.isEmpty, false)
    }

    func testStopReleasesThePortAndIsIdempotent() async throws {
        let server = try await SandboxServer.start()
        let port = server.port
        _ = try await request("GET", server.baseURL + "/Users?count=1")
        await server.stop()
        await server.stop()
        let again = try await SandboxServer.start(SandboxConfiguration(port: port))
        XCTAssertEqual(again.port, port)
        assertStatus(try await request("GET", again.baseURL + "/Users?count=1"), 200)
        await again.stop()
    }

    func testBindingAPortInUseThrows() async throws {
        let server = try await SandboxServer.start()
        do {
            _ = try await SandboxServer.start(SandboxConfiguration(port: server.port))
            XCTFail("a second server on the same port must not start")
        } catch let error as SandboxStartError {
            XCTAssertTrue(error.message.contains(String(server.port)), error.message)
        }
        await server.stop()
    }

    func testTwoServersRunSideBySide() async throws {
        let a = try await SandboxServer.start(SandboxConfiguration(seedUsers: false))
        let b = try await SandboxServer.start()
        XCTAssertNotEqual(a.port, b.port)
        let ra = try await request("GET", a.baseURL + "/Users")
        let rb = try await request("GET", b.baseURL + "/Users")
        await a.stop()
        await b.stop()
        XCTAssertEqual(ra.json?["totalResults"], 0)
        XCTAssertEqual(rb.json?["totalResults"], 6)
    }
}
