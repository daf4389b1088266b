import NIOCore
import XCTest

@testable import SCIMClient

/// The transport's own HTTP/1.1 reading and writing, fed bytes by hand: framings the sandbox never sends
/// (chunked, read-until-close, interim answers), answers split at every byte, and malformed ones.
final class HTTP1CodecTests: XCTestCase {
    /// Feeds `text` in pieces of `step` bytes; returns the answer (none or one) and the bytes left over.
    func parse(_ text: String, step: Int = .max, maxBody: Int = 1 << 20, headOnly: Bool = false) throws
        -> (responses: [HTTP1ResponseParser.Response], left: Int)
    {
        var parser = HTTP1ResponseParser(maxBodyBytes: maxBody)
        parser.reset(headOnly: headOnly)
        var buffer = ByteBuffer()
        var responses: [HTTP1ResponseParser.Response] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + min(step, bytes.count))
            buffer.writeBytes(bytes[i..<end])
            i = end
            // One request, one answer: as the handler, stop reading at the end of the first.
            if responses.isEmpty, let r = try parser.parse(&buffer) { responses.append(r) }
        }
        if let r = parser.closed() { responses.append(r) }
        return (responses, buffer.readableBytes)
    }

    func body(_ r: HTTP1ResponseParser.Response?) -> String? { r.map { String(decoding: $0.body, as: UTF8.self) } }

    func testContentLengthAnswerInOnePieceAndSplitAtEveryByte() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: 11\r\n\r\n{\"a\":\"xyz\"}"
        for step in [1, 2, 7, .max] {
            let (rs, left) = try parse(text, step: step)
            XCTAssertEqual(rs.count, 1, "step \(step)")
            XCTAssertEqual(rs.first?.status, 200)
            XCTAssertEqual(body(rs.first), #"{"a":"xyz"}"#)
            XCTAssertEqual(rs.first?.headers.first?.name, "Content-Type")
            XCTAssertEqual(rs.first?.headers.first?.value, "application/scim+json")
            XCTAssertEqual(rs.first?.keepAlive, true)
            XCTAssertEqual(left, 0)
        }
    }

    func testChunkedBodyWithExtensionsAndTrailers() throws {
        let text =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n"
            + "5;name=value\r\nhello\r\n1A\r\n" + String(repeating: "x", count: 26) + "\r\n0\r\nX-Trailer: 1\r\n\r\n"
        for step in [1, 3, .max] {
            let (rs, left) = try parse(text, step: step)
            XCTAssertEqual(body(rs.first), "hello" + String(repeating: "x", count: 26), "step \(step)")
            XCTAssertEqual(rs.count, 1)
            XCTAssertEqual(rs.first?.keepAlive, true)
            XCTAssertEqual(left, 0)
        }
    }

    func testAnswerWithoutLengthRunsToTheClose() throws {
        let (rs, _) = try parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", step: 4)
        XCTAssertEqual(body(rs.first), "all of it")
        XCTAssertEqual(rs.first?.keepAlive, false, "the close ends it, so the connection is not reused")
    }

    func testInterimAnswersAreSkippedAndBodilessStatusesEndAtTheHead() throws {
        let (rs, _) = try parse(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                + "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n")
        XCTAssertEqual(rs.map(\.status), [204])
        XCTAssertEqual(rs.first?.body, [])
        let (head, _) = try parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", headOnly: true)
        XCTAssertEqual(head.map(\.status), [200], "the answer to HEAD has no body, whatever its length says")
    }

    func testKeepAliveFollowsVersionAndConnectionHeader() throws {
        let cases: [(String, Bool)] = [
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nconnection: upgrade, close\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", true),
            ("HTTP/1.1 200 OK\nContent-Length: 0\n\n", true),
        ]
        for (text, keep) in cases {
            let (rs, _) = try parse(text)
            XCTAssertEqual(rs.first?.keepAlive, keep, text)
        }
    }

    func testMalformedAnswersAreErrorsNotGuesses() {
        let bad = [
            "HTTP/2 200 OK\r\n\r\n",
            "HTTP/1.1 20 OK\r\n\r\n",
            "HTTP/1.1 200OK\r\n\r\n",
            "SSH-2.0-OpenSSH\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
            "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
            "HTTP/1.1 101 Switching Protocols\r\n\r\n",
        ]
        for text in bad {
            XCTAssertThrowsError(try parse(text), text) { error in
                XCTAssertFalse((error as? HTTP1FormatError)?.why.isEmpty ?? true, text)
            }
        }
    }

    /// Another protocol's greeting fails at once, without waiting for a head that never ends.
    func testAnswerThatIsNotHTTPFailsBeforeItsHeadEnds() {
        for text in ["SSH-2.0-OpenSSH_9.2\r\n", "<html>", "HTTP/1.1 2x\r\n"] {
            var parser = HTTP1ResponseParser(maxBodyBytes: 100)
            var buffer = ByteBuffer(string: text)
            XCTAssertThrowsError(try parser.parse(&buffer), text)
        }
        var parser = HTTP1ResponseParser(maxBodyBytes: 100)
        var partial = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-")
        XCTAssertNil(try parser.parse(&partial), "a good start waits for the rest")
    }

    func testSizeLimits() {
        XCTAssertThrowsError(try parse("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", maxBody: 10)) { error in
            XCTAssertEqual((error as? HTTP1FormatError)?.tooLarge, true)
        }
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n"
        XCTAssertThrowsError(try parse(chunked, maxBody: 10)) { error in
            XCTAssertEqual((error as? HTTP1FormatError)?.tooLarge, true)
        }
        XCTAssertThrowsError(try parse("HTTP/1.1 200 OK\r\n\r\n" + String(repeating: "y", count: 11), maxBody: 10))
        let hugeHead = "HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "h", count: 90 << 10)
        XCTAssertThrowsError(try parse(hugeHead, step: 4096)) { error in
            XCTAssertEqual((error as? HTTP1FormatError)?.tooLarge, false)
        }
    }

    func testBytesAfterTheAnswerStayForTheCaller() throws {
        let (rs, left) = try parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")
        XCTAssertEqual(body(rs.first), "ok")
        XCTAssertEqual(left, 5, "the handler sees them and does not reuse the connection")
    }

    func testRequestIsWrittenInOnePieceAndUnsafePartsAreRefused() throws {
        let target = try Target(url: "http://127.0.0.1:8080/api/v1/scim/Users/abc?x=1")
        var out = ByteBuffer()
        let request = HTTPRequestData(
            method: "PATCH", url: "http://127.0.0.1:8080/api/v1/scim/Users/abc?x=1",
            headers: [("Accept", "application/scim+json"), ("Authorization", "Bearer t")], body: Array("{}".utf8))
        try HTTP1RequestWriter.write(request, target: target, into: &out)
        XCTAssertEqual(
            out.readString(length: out.readableBytes),
            "PATCH /api/v1/scim/Users/abc?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: application/scim+json\r\n"
                + "Authorization: Bearer t\r\nContent-Length: 2\r\n\r\n{}")
        let unsafe: [HTTPRequestData] = [
            HTTPRequestData(method: "GET", url: "", headers: [("X", "a\r\nInjected: 1")], body: nil),
            HTTPRequestData(method: "GET", url: "", headers: [("Bad Name", "a")], body: nil),
            HTTPRequestData(method: "GE T", url: "", headers: [], body: nil),
        ]
        for r in unsafe {
            var buffer = ByteBuffer()
            XCTAssertThrowsError(try HTTP1RequestWriter.write(r, target: target, into: &buffer)) { error in
                XCTAssertEqual((error as? TransportFailure)?.notSent, true)
            }
            XCTAssertEqual(buffer.readableBytes, 0, "nothing written")
        }
        // A refused request leaves what the buffer held before, and the message names the header at fault.
        var held = ByteBuffer(string: "kept")
        let second = HTTPRequestData(method: "GET", url: "", headers: [("A", "1"), ("B", "x\ny")], body: nil)
        XCTAssertThrowsError(try HTTP1RequestWriter.write(second, target: target, into: &held)) { error in
            XCTAssertEqual((error as? TransportFailure)?.reason, "header 'B' contains a line break")
        }
        XCTAssertEqual(held.readString(length: held.readableBytes), "kept")
        let unnamed = HTTPRequestData(method: "GET", url: "", headers: [("A", "1"), ("", "v")], body: nil)
        XCTAssertThrowsError(try HTTP1RequestWriter.write(unnamed, target: target, into: &held)) { error in
            XCTAssertEqual((error as? TransportFailure)?.reason, "invalid header name ''")
        }
        XCTAssertThrowsError(
            try HTTP1RequestWriter.write(
                HTTPRequestData(method: "", url: "", headers: [], body: nil), target: target, into: &held))
        XCTAssertEqual(held.readableBytes, 0)
        // Without a body: no Content-Length, and the head ends with the blank line; after bytes already there.
        var after = ByteBuffer(string: "x")
        _ = after.readString(length: 1)
        try HTTP1RequestWriter.write(
            HTTPRequestData(method: "GET", url: "", headers: [("Accept", "é/*")], body: nil), target: target,
            into: &after)
        XCTAssertEqual(
            after.readString(length: after.readableBytes),
            "GET /api/v1/scim/Users/abc?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: é/*\r\n\r\n")
        for url in ["http://h/Users/a b", "http://h\r\nX-Injected/Users"] {
            var buffer = ByteBuffer()
            let spaced = try Target(url: url)
            XCTAssertThrowsError(
                try HTTP1RequestWriter.write(
                    HTTPRequestData(method: "GET", url: url, headers: [], body: nil), target: spaced, into: &buffer),
                url)
            XCTAssertEqual(buffer.readableBytes, 0, "nothing written")
        }
    }
}
