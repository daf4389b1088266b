import NIOCore

/// What the transport writes for a request: the HTTP/1.1 request line, headers and body, in one buffer.
///
/// A SCIM request is small and always the same shape, so it is written straight into bytes instead of going
/// through NIO's request encoder and the `NIOAny` hops between pipeline handlers (docs/performance.md).
enum HTTP1RequestWriter {
    /// Writes `request` for `target`; fails (nothing written) when a method, path or header could smuggle a
    /// line break or space into the request.
    ///
    /// The request is copied into the buffer in one write of its exact size, and its parts are then checked
    /// where they lie, a byte at a time through ``byteClass``. Writing each piece with `ByteBuffer.writeString`
    /// and checking each `String`'s UTF-8 view cost more than the rest of the request (about twenty buffer
    /// accesses per request, each with its bounds and exclusivity checks).
    static func write(_ request: HTTPRequestData, target: Target, into out: inout ByteBuffer) throws(TransportFailure) {
        let contentLength = request.body.map { String($0.count) }
        // "METHOD PATH HTTP/1.1\r\nHost: AUTHORITY\r\n", "NAME: VALUE\r\n" per header, then the body's length
        // and the blank line.
        var size = request.method.utf8.count + 1 + target.pathAndQuery.utf8.count + 17 + target.authority.utf8.count + 2
        for h in request.headers { size += h.name.utf8.count + 2 + h.value.utf8.count + 2 }
        size += contentLength.map { 16 + $0.utf8.count + 4 + (request.body?.count ?? 0) } ?? 2
        let start = out.writerIndex
        var checksOut: [(range: Range<Int>, what: Check)] = []
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw -> Int in
            var head = HeadWriter(raw)
            head.copy(request.method, .method)
            head.copy(" ")
            head.copy(target.pathAndQuery, .path)
            head.copy(" HTTP/1.1\r\nHost: ")
            head.copy(target.authority, .host)
            head.copy("\r\n")
            for h in request.headers {
                head.copy(h.name, .headerName)
                head.copy(": ")
                head.copy(h.value, .headerValue)
                head.copy("\r\n")
            }
            if let contentLength, let body = request.body {
                head.copy("Content-Length: ")
                head.copy(contentLength)
                head.copy("\r\n\r\n")
                body.withUnsafeBytes { head.copy($0) }
            } else {
                head.copy("\r\n")
            }
            checksOut = head.checks
            return head.at
        }
        let checks = checksOut
        let failed = out.withUnsafeReadableBytes { written -> Int? in
            let head = UnsafeRawBufferPointer(rebasing: written[(start - out.readerIndex)...])
            for (index, check) in checks.enumerated() {
                if check.range.isEmpty, check.what.needsToken { return index }
                var seen: UInt8 = 0
                for i in check.range { seen |= byteClass[Int(head[i])] }
                if seen & check.what.forbidden != 0 { return index }
            }
            return nil
        }
        guard let failed else { return }
        out.moveWriterIndex(to: start)
        let what = checks[failed].what
        let header = what == .headerName || what == .headerValue ? request.headers[(failed - 3) / 2] : nil
        switch what {
        case .method: throw TransportFailure(reason: "invalid HTTP method '\(request.method)'", notSent: true)
        case .path:
            throw TransportFailure(reason: "invalid URL: the path contains a space or control character", notSent: true)
        case .host:
            throw TransportFailure(reason: "invalid URL: the host contains a space or control character", notSent: true)
        case .headerName:
            throw TransportFailure(reason: "invalid header name '\(header?.name ?? "")'", notSent: true)
        case .headerValue:
            throw TransportFailure(reason: "header '\(header?.name ?? "")' contains a line break", notSent: true)
        }
    }

    /// Copies a request's pieces into reserved buffer space, noting where the checked parts lie.
    struct HeadWriter {
        let raw: UnsafeMutableRawBufferPointer
        var at = 0
        var checks: [(range: Range<Int>, what: Check)] = []

        init(_ raw: UnsafeMutableRawBufferPointer) {
            self.raw = raw
            checks.reserveCapacity(12)
        }

        mutating func copy(_ bytes: UnsafeRawBufferPointer) {
            precondition(at + bytes.count <= raw.count, "request size miscounted")
            if let base = bytes.baseAddress, !bytes.isEmpty {
                (raw.baseAddress! + at).copyMemory(from: base, byteCount: bytes.count)
            }
            at += bytes.count
        }

        mutating func copy(_ s: String, _ what: Check? = nil) {
            let from = at
            var s = s
            s.withUTF8 { copy(UnsafeRawBufferPointer($0)) }
            if let what { checks.append((from..<at, what)) }
        }
    }

    /// The parts of a request head that are checked, and the byte classes each must not hold.
    enum Check {
        case method, path, host, headerName, headerValue

        var forbidden: UInt8 {
            switch self {
            case .method, .headerName: return HTTP1RequestWriter.notToken
            case .path, .host: return HTTP1RequestWriter.spaceOrControl
            case .headerValue: return HTTP1RequestWriter.lineBreak
            }
        }

        var needsToken: Bool { self == .method || self == .headerName }
    }

    /// Byte classes: not an RFC 9110 `tchar`; a space, control character or DEL; CR, LF or NUL.
    static let notToken: UInt8 = 1
    static let spaceOrControl: UInt8 = 2
    static let lineBreak: UInt8 = 4

    /// The classes of every byte value.
    static let byteClass: [UInt8] = (0...255).map { (b: Int) -> UInt8 in
        let byte = UInt8(b)
        var c: UInt8 = isTokenByte(byte) ? 0 : notToken
        if byte <= 0x20 || byte == 0x7F { c |= spaceOrControl }
        if byte == 10 || byte == 13 || byte == 0 { c |= lineBreak }
        return c
    }

    /// RFC 9110 `tchar`: the bytes a method or header name may hold.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }
}

/// Why an answer is not HTTP the transport can read.
struct HTTP1FormatError: Error {
    var why: String
    /// The body is larger than allowed (not a format error as such).
    var tooLarge = false
}

/// Reads HTTP/1.1 responses from a connection's bytes, one at a time, as they arrive: status line and headers,
/// then a body framed by `Content-Length`, chunked transfer coding, or the close of the connection.
///
/// Interim (1xx) answers are skipped. The head may be at most `maxHeadBytes`, the body at most `maxBodyBytes`.
/// Obsolete line folding, a malformed length and conflicting lengths are errors, as RFC 9112 asks of a client
/// that must not guess where an answer ends.
struct HTTP1ResponseParser {
    /// A complete response.
    struct Response {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        /// Whether the connection may carry another request.
        var keepAlive: Bool
    }

    enum Phase {
        case head
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd
        case trailers
        case untilClose
    }

    let maxHeadBytes: Int
    let maxBodyBytes: Int
    var phase = Phase.head
    var status = 0
    var headers: [(name: String, value: String)] = []
    var keepAlive = true
    var body: [UInt8] = []
    /// The request was `HEAD`: its answer has no body, whatever its headers say.
    var headOnly = false
    /// The minor HTTP version of the answer (`0` or `1`), once its status line is read.
    var minor: UInt8 = 0
    /// The header lines read so far, the status line not included.
    var headerLines: [Range<Int>] = []
    /// The bytes of the lines read so far (without their line ends), reused from answer to answer: lines are
    /// ranges of it, so reading a head allocates nothing per line.
    var store: [UInt8] = []
    /// Bytes of the head, or of the trailers, read so far (each bounded by `maxHeadBytes`).
    var lineBytes = 0
    /// How many bytes of the line being read were searched for its end without finding it.
    var scanned = 0

    init(maxHeadBytes: Int = 80 << 10, maxBodyBytes: Int) {
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Gets ready for the answer to a new request.
    mutating func reset(headOnly: Bool) {
        phase = .head
        status = 0
        headers = []
        keepAlive = true
        body = []
        self.headOnly = headOnly
        headerLines.removeAll(keepingCapacity: true)
        store.removeAll(keepingCapacity: true)
        lineBytes = 0
        scanned = 0
    }

    /// Consumes what it can of `buffer`; returns the response once it is complete (the bytes after it stay in
    /// `buffer`).
    mutating func parse(_ buffer: inout ByteBuffer) throws(HTTP1FormatError) -> Response? {
        while true {
            switch phase {
            case .head:
                guard let line = try takeCountedLine(&buffer, what: "header") else {
                    if status == 0 { try HTTP1ResponseParser.checkStart(buffer) }
                    return nil
                }
                if status == 0 {
                    // The status line, checked at once: a server speaking another protocol may never send the
                    // empty line that ends a head.
                    guard !line.isEmpty else { throw HTTP1FormatError(why: "no status line") }
                    (minor, status) = try HTTP1ResponseParser.statusLine(store[line])
                    continue
                }
                guard line.isEmpty else {
                    headerLines.append(line)
                    continue
                }
                try readHeaders()
                headerLines.removeAll(keepingCapacity: true)
                store.removeAll(keepingCapacity: true)
                lineBytes = 0
                if (100..<200).contains(status) {
                    // An interim answer (100 Continue, 103 Early Hints): the real one follows.
                    status = 0
                    headers = []
                    continue
                }
                if let done = try startBody() { return done }
            case .body(let remaining):
                let n = min(remaining, buffer.readableBytes)
                try append(&buffer, n)
                if n == remaining { return finish() }
                phase = .body(remaining: remaining - n)
                return nil
            case .chunkSize:
                store.removeAll(keepingCapacity: true)
                guard let line = try takeLine(&buffer, limit: 1024, what: "chunk size") else { return nil }
                let size = try HTTP1ResponseParser.chunkSize(store[line])
                phase = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let n = min(remaining, buffer.readableBytes)
                try append(&buffer, n)
                guard n == remaining else {
                    phase = .chunkData(remaining: remaining - n)
                    return nil
                }
                phase = .chunkEnd
            case .chunkEnd:
                guard let line = try takeLine(&buffer, limit: 2, what: "chunk end") else { return nil }
                guard line.isEmpty else { throw HTTP1FormatError(why: "no line break after a chunk") }
                phase = .chunkSize
            case .trailers:
                store.removeAll(keepingCapacity: true)
                guard let line = try takeCountedLine(&buffer, what: "trailer") else { return nil }
                if line.isEmpty { return finish() }
            case .untilClose:
                try append(&buffer, buffer.readableBytes)
                return nil
            }
        }
    }

    /// The connection closed: the response, when the close was what ended it.
    mutating func closed() -> Response? {
        guard case .untilClose = phase else { return nil }
        return finish()
    }

    private mutating func finish() -> Response {
        let response = Response(status: status, headers: headers, body: body, keepAlive: keepAlive)
        reset(headOnly: false)
        return response
    }

    private mutating func append(_ buffer: inout ByteBuffer, _ n: Int) throws(HTTP1FormatError) {
        guard n > 0 else { return }
        guard body.count + n <= maxBodyBytes else {
            throw HTTP1FormatError(why: "the answer is larger than \(maxBodyBytes) bytes", tooLarge: true)
        }
        buffer.withUnsafeReadableBytes { body.append(contentsOf: $0.prefix(n)) }
        buffer.moveReaderIndex(forwardBy: n)
    }

    /// One line of a head or of the trailers (see ``takeLine``), counted against `maxHeadBytes` for them all.
    private mutating func takeCountedLine(_ buffer: inout ByteBuffer, what: String) throws(HTTP1FormatError)
        -> Range<Int>?
    {
        guard let line = try takeLine(&buffer, limit: maxHeadBytes, what: what) else { return nil }
        lineBytes += line.count + 2
        guard lineBytes <= maxHeadBytes else {
            throw HTTP1FormatError(why: "\(what)s longer than \(maxHeadBytes) bytes")
        }
        return line
    }

    /// One line without its line break (consumed from the buffer and appended to ``store``), as its range in
    /// ``store``, or nil when it has not arrived yet. Bytes already searched are not searched again when more
    /// arrive, so a line that trickles in byte by byte costs linear time.
    private mutating func takeLine(_ buffer: inout ByteBuffer, limit: Int, what: String) throws(HTTP1FormatError)
        -> Range<Int>?
    {
        let from = scanned
        // The line feed's offset in the readable bytes, and whether a carriage return precedes it.
        let found = buffer.withUnsafeReadableBytes { raw -> (lf: Int, cr: Bool, count: Int)? in
            guard from < raw.count, let lf = raw[from...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
            return (lf, lf > 0 && raw[lf - 1] == UInt8(ascii: "\r"), raw.count)
        }
        guard let found else {
            scanned = buffer.readableBytes
            if buffer.readableBytes > limit + 1 {
                throw HTTP1FormatError(why: "\(what) line longer than \(limit) bytes")
            }
            return nil
        }
        scanned = 0
        let length = found.cr ? found.lf - 1 : found.lf
        guard length <= limit else { throw HTTP1FormatError(why: "\(what) line longer than \(limit) bytes") }
        let start = store.count
        buffer.withUnsafeReadableBytes { store.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[..<length])) }
        buffer.moveReaderIndex(forwardBy: found.lf + 1)
        return start..<store.count
    }

    /// Fails early on an answer whose first line, not yet complete, does not start like HTTP/1.x.
    static func checkStart(_ buffer: ByteBuffer) throws(HTTP1FormatError) {
        let view = buffer.readableBytesView
        if !view.prefix(7).elementsEqual("HTTP/1.".utf8.prefix(view.count)) {
            throw HTTP1FormatError(why: "it does not start with HTTP/1.")
        }
    }

    /// The minor version and status code of `HTTP/1.x SSS[ reason]`.
    static func statusLine(_ line: ArraySlice<UInt8>) throws(HTTP1FormatError) -> (minor: UInt8, status: Int) {
        let s = Array(line)  // one small copy, for indexing from zero
        guard s.count >= 12, s[0..<7].elementsEqual("HTTP/1.".utf8), s[8] == UInt8(ascii: " "),
            s[9...11].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            s.count == 12 || s[12] == UInt8(ascii: " ")
        else {
            throw HTTP1FormatError(why: "bad status line '\(String(decoding: s.prefix(60), as: UTF8.self))'")
        }
        let minor = s[7]
        guard minor == UInt8(ascii: "0") || minor == UInt8(ascii: "1") else {
            throw HTTP1FormatError(why: "unsupported version HTTP/1.\(Character(Unicode.Scalar(minor)))")
        }
        let status = s[9...11].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard status >= 100 else { throw HTTP1FormatError(why: "bad status code \(status)") }
        guard status != 101 else { throw HTTP1FormatError(why: "an unasked-for protocol switch (101)") }
        return (minor, status)
    }

    /// Takes the header lines read after the status line.
    private mutating func readHeaders() throws(HTTP1FormatError) {
        var connectionTokens: [String] = []
        headers = []
        headers.reserveCapacity(headerLines.count)
        for range in headerLines {
            let line = store[range]
            guard let first = line.first, first != UInt8(ascii: " "), first != UInt8(ascii: "\t") else {
                throw HTTP1FormatError(why: "obsolete line folding in a header")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[line.startIndex..<colon].allSatisfy(HTTP1RequestWriter.isTokenByte)
            else {
                throw HTTP1FormatError(why: "bad header line '\(String(decoding: line.prefix(60), as: UTF8.self))'")
            }
            var value = line[(colon + 1)...]
            while let b = value.first, b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { value = value.dropFirst() }
            while let b = value.last, b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { value = value.dropLast() }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let text = String(decoding: value, as: UTF8.self)
            headers.append((name, text))
            if ASCIIFold.equalFolded(name, "connection") {
                connectionTokens += HTTP1ResponseParser.tokens(text)
            }
        }
        keepAlive =
            minor == UInt8(ascii: "1")
            ? !connectionTokens.contains("close") : connectionTokens.contains("keep-alive")
    }

    /// Picks the body's framing after the head; the response when it has no body.
    private mutating func startBody() throws(HTTP1FormatError) -> Response? {
        if headOnly || status == 204 || status == 304 { return finish() }
        var lengths: [String] = []
        var codings: [String] = []
        for (name, value) in headers {
            if ASCIIFold.equalFolded(name, "content-length") {
                // The usual single length (the value is already trimmed) is taken as it is.
                if !value.utf8.contains(UInt8(ascii: ",")) {
                    lengths.append(value)
                } else {
                    lengths += value.split(separator: ",").map { $0.trimmingASCIISpaces() }
                }
            } else if ASCIIFold.equalFolded(name, "transfer-encoding") {
                codings += HTTP1ResponseParser.tokens(value)
            }
        }
        if !codings.isEmpty {
            // RFC 9112 §6.3: with a transfer coding, Content-Length is ignored; only a final `chunked` ends
            // the body in-band, anything else runs to the close.
            if codings.last == "chunked" {
                phase = .chunkSize
            } else {
                keepAlive = false
                phase = .untilClose
            }
            return nil
        }
        if let first = lengths.first {
            guard lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 18,
                first.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                let n = Int(first)
            else {
                throw HTTP1FormatError(why: "bad Content-Length '\(lengths.joined(separator: ", "))'")
            }
            guard n <= maxBodyBytes else {
                throw HTTP1FormatError(why: "the answer is larger than \(maxBodyBytes) bytes", tooLarge: true)
            }
            if n == 0 { return finish() }
            phase = .body(remaining: n)
            return nil
        }
        keepAlive = false
        phase = .untilClose
        return nil
    }

    /// The size of a chunk from its size line (`1a3f;ext=1`).
    static func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTP1FormatError) -> Int {
        var size = 0
        var digits = 0
        for b in line {
            let v: Int
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = Int(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = Int(b - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = Int(b - UInt8(ascii: "A")) + 10
            case UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t"):
                guard digits > 0 else { throw HTTP1FormatError(why: "bad chunk size") }
                return size
            default: throw HTTP1FormatError(why: "bad chunk size")
            }
            digits += 1
            guard digits <= 15 else { throw HTTP1FormatError(why: "chunk size too large") }
            size = size * 16 + v
        }
        guard digits > 0 else { throw HTTP1FormatError(why: "bad chunk size") }
        return size
    }

    /// The comma-separated tokens of a header value, lowercased.
    static func tokens(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingASCIISpaces().lowercased() }.filter { !$0.isEmpty }
    }
}

/// ASCII case folding for the few header names the parser looks for.
enum ASCIIFold {
    /// Whether `a` is `b` (ASCII) up to the case of letters.
    static func equalFolded(_ a: String, _ b: StaticString) -> Bool {
        let x = a.utf8
        guard x.count == b.utf8CodeUnitCount else { return false }
        var p = b.utf8Start
        for c in x {
            if c | 0x20 != p.pointee | 0x20 { return false }
            if (c | 0x20) < 0x61 || (c | 0x20) > 0x7A, c != p.pointee { return false }
            p += 1
        }
        return true
    }
}

extension Substring {
    func trimmingASCIISpaces() -> String {
        var s = self[...]
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
