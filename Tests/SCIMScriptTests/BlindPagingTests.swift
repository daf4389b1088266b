import Foundation
import SCIMClient
import SCIMCore
import SCIMScript
import SCIMTestSupport
import XCTest

/// Servers that page wrongly: the listing stops with an error before any further write, instead of patching
/// the same users again or skipping the rest (issue 18, item 2). The servers are a small Python program, since
/// the sandbox pages correctly.
final class BlindPagingTests: XCTestCase {
    /// `python3 server.py MODE`: 250 users; MODE `ignore-start` always sends the first page, `wrong-start`
    /// labels every page startIndex 1, `short` counts 500 users but has 250, `repeat` sends the same page with
    /// totalResults 10^12. Every PATCH is counted and answered 200; GET /count tells how many.
    static let script = #"""
        import http.server, json, sys
        mode = sys.argv[1]
        users = [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u%03d" % i,
                  "userName": "user%03d" % i, "active": True} for i in range(1, 251)]
        patches = 0
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def send(self, status, obj):
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/scim+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def do_GET(self):
                from urllib.parse import urlparse, parse_qs
                u = urlparse(self.path)
                if u.path == "/count":
                    return self.send(200, {"patches": patches})
                q = parse_qs(u.query)
                start = int(q.get("startIndex", ["1"])[0]); count = int(q.get("count", ["100"])[0])
                total = len(users)
                if mode in ("ignore-start", "repeat"):
                    start_used = 1
                else:
                    start_used = start
                page = users[start_used - 1:start_used - 1 + count]
                if mode == "repeat": total = 10 ** 12
                if mode == "short": total = 500
                shown = 1 if mode == "wrong-start" else start
                self.send(200, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                    "totalResults": total, "startIndex": shown, "itemsPerPage": len(page), "Resources": page})
            def do_PATCH(self):
                global patches
                patches += 1
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                uid = self.path.rsplit("/", 1)[-1]
                self.send(200, next(u for u in users if u["id"] == uid))
            def log_message(self, *a): pass
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """#

    /// A running stub server in `mode`; its base URL.
    final class Stub: @unchecked Sendable {
        let process: ChildProcess
        let dir: String
        let port: Int

        init(mode: String) async throws {
            dir = try Fixtures.temporaryDirectory()
            let path = dir + "/server.py"
            try BlindPagingTests.script.write(toFile: path, atomically: true, encoding: .utf8)
            let python = try XCTUnwrap(ChildProcess.executable(named: "python3"))
            process = try ChildProcess.start([python, path, mode], in: dir)
            let line = try await process.waitForOutput(containing: "\n")
            port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }

        var url: String { "http://127.0.0.1:\(port)" }

        func patches() throws -> Int {
            let data = try Data(contentsOf: try XCTUnwrap(URL(string: url + "/count")))
            let json = try JSONParser.parse(Array(data))
            return Int(json["patches"]?.numberValue ?? -1)
        }

        deinit {
            process.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    func run(_ mode: String, _ statement: String) async throws -> (RunResult, CapturingSink, Stub) {
        let stub = try await Stub(mode: mode)
        XCTAssertGreaterThan(stub.port, 0)
        let sink = CapturingSink()
        let interpreter = Interpreter(sink: sink, environment: ["SCIMSH_JOURNAL": "off"])
        interpreter.setVariable("host", .string(stub.url))
        interpreter.setVariable("base_path", .string("/"))
        interpreter.setVariable("dialect", .string("rfc"))
        interpreter.setVariable("token", .string("stub-token"))
        let result = await interpreter.run(statement)
        await interpreter.shutdown()
        return (result, sink, stub)
    }

    func testAServerThatIgnoresStartIndexStopsTheChangeAfterItsFirstPage() async throws {
        let (result, sink, stub) = try await run("ignore-start", "find | patch title=x")
        XCTAssertEqual(result.exitCode, 1, sink.messages)
        XCTAssertTrue(sink.messages.contains("repeats user u001 of the page before"), sink.messages)
        XCTAssertEqual(try stub.patches(), 100, "the first page was patched once, nothing twice")
    }

    func testAWrongStartIndexInTheAnswerStopsTheListing() async throws {
        let (result, sink, stub) = try await run("wrong-start", "find | patch title=x")
        XCTAssertEqual(result.exitCode, 1, sink.messages)
        XCTAssertTrue(sink.messages.contains("asked for startIndex=101, it answered startIndex 1"), sink.messages)
        XCTAssertEqual(try stub.patches(), 100)
    }

    func testAListingThatStopsShortOfItsTotalIsAnError() async throws {
        let (result, sink, _) = try await run("short", "find | count")
        XCTAssertEqual(result.exitCode, 1, sink.messages)
        XCTAssertTrue(sink.messages.contains("counts 500 users (totalResults) but sent none"), sink.messages)
    }

    func testEndlessRepeatingPagesEnd() async throws {
        let (result, sink, stub) = try await run("repeat", "find | patch title=x")
        XCTAssertEqual(result.exitCode, 1, sink.messages)
        XCTAssertEqual(try stub.patches(), 100)
    }

    func testTheLibrarysStreamChecksPagesToo() async throws {
        let stub = try await Stub(mode: "ignore-start")
        let client = SCIMClient(configuration: SCIMConfiguration(host: stub.url, basePath: "/"))
        var n = 0
        do {
            for try await _ in client.findAll(pageSize: 100) { n += 1 }
            XCTFail("the listing ended without an error after \(n) users")
        } catch {
            XCTAssertTrue(error.description.contains("ignore startIndex"), error.description)
        }
        XCTAssertEqual(n, 100)
        await client.shutdown()
    }
}
