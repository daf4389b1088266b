import Foundation
import SCIMCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A deliberately broken HTTP server on 127.0.0.1, port 0, for what no correct server produces: a bad status
/// line, headers without end, conflicting lengths, bad chunks, bodies cut short or without end, one byte a second,
/// a storm of `100 Continue`, gzip nobody asked for, redirects to another host, invalid UTF-8, JSON nested 100,000
/// deep, pages that lie.
///
/// It speaks raw bytes over POSIX sockets, one thread per connection, so that nothing between the test and the
/// client tidies the answer up. Each request is read (head and a `Content-Length` body), recorded with its headers
/// (``requests``, so a test can check where a token went), and handed to the handler, which writes whatever it
/// likes; the connection is closed when the handler returns. ``stop()`` (or deinit) closes the listener and makes
/// long-running handlers (endless bodies, slowloris) end at their next write.
///
/// ```swift
/// let server = try HostileServer(handler: HostileServer.respond(status: 200, body: "[[[["))
/// defer { server.stop() }
/// // point a client at server.origin
/// ```
public final class HostileServer: Sendable {
    /// One request as the server read it.
    public struct Request: Sendable {
        /// GET, POST, ...
        public var method: String
        /// The request target: path and query.
        public var target: String
        /// Header fields in order.
        public var headers: [(name: String, value: String)]
        /// The body (read by `Content-Length`).
        public var body: [UInt8]

        /// The first value of a header, case-insensitively.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        /// The value of a query parameter (not percent-decoded), or `nil`.
        public func query(_ name: String) -> String? {
            guard let q = target.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
            for pair in q.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.first.map(String.init) == name { return parts.count > 1 ? String(parts[1]) : "" }
            }
            return nil
        }
    }

    /// The client's end of one connection, for a handler to write to.
    public final class Connection: Sendable {
        let fd: Int32
        let server: HostileServer

        init(fd: Int32, server: HostileServer) {
            self.fd = fd
            self.server = server
        }

        /// Writes bytes; `false` once the client has gone (or the server is stopping).
        @discardableResult
        public func write(_ bytes: [UInt8]) -> Bool {
            guard !server.isStopped else { return false }
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { buffer -> Int in
                    guard let base = buffer.baseAddress else { return 0 }
                    return send(fd, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }

        /// Writes text as UTF-8.
        @discardableResult
        public func write(_ text: String) -> Bool { write(Array(text.utf8)) }

        /// Waits, unless the server is stopping; `false` when it is.
        @discardableResult
        public func pause(_ seconds: Double) -> Bool {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if server.isStopped { return false }
                usleep(20_000)
            }
            return !server.isStopped
        }
    }

    /// What the server does with each request.
    public typealias Handler = @Sendable (Request, Connection) -> Void

    /// The port the server listens on.
    public let port: Int
    private let listener: Int32
    private let handler: Handler
    private let received = LockedValue<[Request]>([])
    private let stopped = Atomic<Bool>(false)
    private let open = LockedValue<Set<Int32>>([])

    /// Starts listening on 127.0.0.1 (port 0: a free one) and serving every request with `handler`.
    public init(handler: @escaping Handler) throws {
        let fd = try LoopbackPort.tcpSocket()
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard let port = LoopbackPort.bindAnyPort(fd, listening: true) else {
            close(fd)
            throw ChildProcessError("cannot listen on 127.0.0.1:0: \(String(cString: strerror(errno)))")
        }
        listener = fd
        self.port = port
        self.handler = handler
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// `http://127.0.0.1:PORT`.
    public var origin: String { "http://127.0.0.1:\(port)" }

    /// The requests received so far, in order.
    public var requests: [Request] { received.withLock { $0 } }

    /// The requests received, less scimsh's discovery requests (`/ServiceProviderConfig`, `/ResourceTypes`,
    /// `/Schemas`, RFC 7644 §4), which it sends once per server before the first statement that talks to it.
    public var apiRequests: [Request] {
        requests.filter { r in
            !["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"].contains { r.target.hasSuffix($0) }
        }
    }

    var isStopped: Bool { stopped.load(ordering: .sequentiallyConsistent) }

    /// Stops accepting, and makes running handlers end at their next write or pause.
    public func stop() {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        open.withLock { fds in
            for fd in fds { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop() {
        while !isStopped {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            open.withLock { _ = $0.insert(client) }
            let thread = Thread { [self] in
                serve(client)
                open.withLock { _ = $0.remove(client) }
                close(client)
            }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        guard let request = Self.readRequest(fd) else { return }
        received.withLock { $0.append(request) }
        handler(request, Connection(fd: fd, server: self))
        shutdown(fd, Int32(SHUT_WR))
        // Let the client read what was sent before the close (a reset could discard it).
        var scratch = [UInt8](repeating: 0, count: 4096)
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        while scratch.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) > 0 {}
    }

    /// Reads a request head (at most 64 KiB) and a `Content-Length` body (at most 16 MiB).
    static func readRequest(_ fd: Int32) -> Request? {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            data.append(contentsOf: chunk[0..<n])
            if data.count >= 4 {
                for i in 0...(data.count - 4) where data[i..<(i + 4)].elementsEqual(end) {
                    headEnd = i
                    break
                }
            }
            if data.count > 65_536 { return nil }
        }
        guard let headEnd else { return nil }
        let lines = String(decoding: data[0..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let first = lines.first?.split(separator: " ") ?? []
        guard first.count >= 2 else { return nil }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var body = Array(data[(headEnd + 4)...])
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        while body.count < min(length, 16 << 20) {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            body.append(contentsOf: chunk[0..<n])
        }
        return Request(method: String(first[0]), target: String(first[1]), headers: headers, body: body)
    }
}

// MARK: - Answers

extension HostileServer {
    /// A well-formed response head and body (`Connection: close`, a `Content-Length` unless `headers` has a
    /// `Transfer-Encoding`).
    public static func response(
        status: Int, reason: String = "OK", headers: [(String, String)] = [],
        contentType: String? = "application/scim+json", body: [UInt8]
    ) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reason)\r\nConnection: close\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\n" }
        if !headers.contains(where: { $0.0.lowercased() == "transfer-encoding" }) {
            head += "Content-Length: \(body.count)\r\n"
        }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    /// A handler that sends the same well-formed response to every request.
    public static func respond(
        status: Int = 200, reason: String = "OK", headers: [(String, String)] = [],
        contentType: String? = "application/scim+json", body: String
    ) -> Handler {
        let bytes = response(
            status: status, reason: reason, headers: headers, contentType: contentType, body: Array(body.utf8))
        return { _, connection in connection.write(bytes) }
    }

    /// A handler that sends these raw bytes, whatever they are.
    public static func raw(_ bytes: [UInt8]) -> Handler {
        { _, connection in connection.write(bytes) }
    }

    /// A user object with `id` (and a `userName` of the same).
    public static func user(_ id: String, extra: String = "") -> String {
        #"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"\#(id)","userName":"\#(id)","#
            + #""active":true\#(extra),"meta":{"resourceType":"User"}}"#
    }

    /// A ListResponse with these resources (JSON texts) and counters.
    public static func listResponse(_ resources: [String], total: Int, start: Int) -> String {
        #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":\#(total),"#
            + #""startIndex":\#(start),"itemsPerPage":\#(resources.count),"Resources":["#
            + resources.joined(separator: ",") + "]}"
    }

    /// The named cases of what no correct server sends, each a handler for any request (a `get`, a `find`).
    public enum Case: String, CaseIterable, Sendable {
        /// `HTTP/1.1 OK-ish 200`: a status line that does not parse.
        case badStatusLine
        /// 2 MiB of header lines and no end of head.
        case hugeHeaders
        /// `Content-Length` and `Transfer-Encoding: chunked` together, disagreeing.
        case conflictingLengths
        /// A chunk size that is not hexadecimal.
        case badChunks
        /// `Content-Length: 100000` and 20 bytes, then the connection closes.
        case truncatedBody
        /// A chunked body that never ends (until the client hangs up).
        case endlessBody
        /// A valid answer, one byte a second.
        case slowloris
        /// 100,000 `100 Continue` heads and no final answer.
        case continueStorm
        /// A gzip body (of 256 MiB of zeros) nobody asked for.
        case gzipUnasked
        /// A user whose strings hold bytes that are not UTF-8.
        case invalidUTF8
        /// 100,000 nested arrays.
        case deepJSON
        /// A page of 1,000,000 Resources (about 17 MB).
        case millionResources
        /// A listing that says 10^12 users and serves the same 100 whatever `startIndex` says.
        case repeatingPages
        /// A listing that says 250 users, has 100, then answers empty pages.
        case lyingTotal
        /// 429 with `Retry-After: 1e16`, every time.
        case badRetryAfter

        /// The handler that serves the case.
        public var handler: Handler {
            switch self {
            case .badStatusLine:
                return HostileServer.raw(Array("HTTP/1.1 OK-ish 200\r\nContent-Length: 2\r\n\r\n{}".utf8))
            case .hugeHeaders:
                return { _, c in
                    guard c.write("HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\n") else { return }
                    let line = Array(("X-Filler: " + String(repeating: "x", count: 1000) + "\r\n").utf8)
                    for _ in 0..<2048 where c.write(line) {}
                }
            case .conflictingLengths:
                return HostileServer.raw(
                    Array(
                        ("HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: 5\r\n"
                            + "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n0\r\n\r\n").utf8))
            case .badChunks:
                return HostileServer.raw(
                    Array(
                        ("HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "zz\r\n{}\r\n0\r\n\r\n").utf8))
            case .truncatedBody:
                return HostileServer.raw(
                    Array(
                        ("HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: 100000\r\n\r\n"
                            + #"{"id":"u-1","userName""#).utf8))
            case .endlessBody:
                return { _, c in
                    let head =
                        "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    guard c.write(head) else { return }
                    let payload = String(repeating: "[1,", count: 21_845)
                    let chunk = Array((String(payload.utf8.count, radix: 16) + "\r\n" + payload + "\r\n").utf8)
                    while c.write(chunk) {}
                }
            case .slowloris:
                return { _, c in
                    let bytes = HostileServer.response(status: 200, body: Array(HostileServer.user("u-1").utf8))
                    for b in bytes {
                        guard c.write([b]), c.pause(1) else { return }
                    }
                }
            case .continueStorm:
                return { _, c in
                    let one = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
                    let many = Array([[UInt8]](repeating: one, count: 1000).joined())
                    for _ in 0..<100 where c.write(many) {}
                    c.pause(60)
                }
            case .gzipUnasked:
                return { _, c in
                    let body = HostileServer.gzipOfZeros
                    c.write(
                        HostileServer.response(
                            status: 200, headers: [("Content-Encoding", "gzip")], body: body))
                }
            case .invalidUTF8:
                var body = Array(#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-1","#.utf8)
                body += Array(#""userName":"b"#.utf8) + [0xFF, 0xFE, 0xC0, 0x80] + Array(#"","active":true}"#.utf8)
                return HostileServer.raw(HostileServer.response(status: 200, body: body))
            case .deepJSON:
                let body =
                    [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
                    + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000)
                return HostileServer.raw(HostileServer.response(status: 200, body: body))
            case .millionResources:
                return { _, c in
                    var body = Array(
                        (#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1000000,"#
                            + #""startIndex":1,"itemsPerPage":1000000,"Resources":["#).utf8)
                    body.reserveCapacity(18_000_000)
                    for i in 0..<1_000_000 {
                        if i > 0 { body.append(UInt8(ascii: ",")) }
                        body += Array(#"{"id":"\#(i)"}"#.utf8)
                    }
                    body += Array("]}".utf8)
                    c.write(HostileServer.response(status: 200, body: body))
                }
            case .repeatingPages:
                return { _, c in
                    let users = (1...100).map { HostileServer.user(String(format: "u%03d", $0)) }
                    let body = HostileServer.listResponse(users, total: 1_000_000_000_000, start: 1)
                    c.write(HostileServer.response(status: 200, body: Array(body.utf8)))
                }
            case .lyingTotal:
                return { r, c in
                    let start = r.query("startIndex").flatMap(Int.init) ?? 1
                    let users = start == 1 ? (1...100).map { HostileServer.user(String(format: "u%03d", $0)) } : []
                    let body = HostileServer.listResponse(users, total: 250, start: start)
                    c.write(HostileServer.response(status: 200, body: Array(body.utf8)))
                }
            case .badRetryAfter:
                return HostileServer.respond(
                    status: 429, reason: "Too Many Requests", headers: [("Retry-After", "1e16")],
                    body: #"{"detail":"slow down"}"#)
            }
        }
    }

    /// A gzip member holding 256 MiB of zeros (about 260 KB): a decompression bomb for a 64 MiB limit.
    static let gzipOfZeros: [UInt8] = {
        // Stored as deflate blocks: a fixed-Huffman block of zeros compresses ~1000:1. Building it with zlib
        // would need a dependency; gzip(1) is everywhere the tests run.
        let path = NSTemporaryDirectory() + "/hostile-zeros-\(getpid()).gz"
        defer { unlink(path) }
        let cmd = "head -c 268435456 /dev/zero | gzip -1 > '\(path)'"
        let pid = try? ChildProcess.spawn(["/bin/sh", "-c", cmd], stdout: "/dev/null", stderr: "/dev/null")
        if let pid { _ = ChildProcess.collect(pid, block: true) }
        return FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
    }()
}

extension ChildProcess {
    /// The most memory the program has had resident so far (`VmHWM` of /proc/PID/status), in bytes; `nil` once it
    /// has ended (or off Linux). Poll it while the program runs: the value only grows.
    public var peakResidentBytes: Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.dropFirst(6).filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }
}
