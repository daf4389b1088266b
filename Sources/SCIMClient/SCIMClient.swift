import SCIMCore

#if canImport(Glibc)
    import Glibc
#endif

/// Something that watches every HTTP exchange (for `trace`, logs and teaching). Called on arbitrary tasks.
public protocol HTTPExchangeObserver: Sendable {
    /// A request is about to be sent (attempt is 1 for the first try).
    func willSend(_ request: HTTPRequestData, attempt: Int)
    /// A response arrived.
    func didReceive(_ response: HTTPResponseData, for request: HTTPRequestData, duration: Duration)
    /// The request failed without a response.
    func didFail(_ reason: String, for request: HTTPRequestData, duration: Duration)
}

/// A client for the SCIM 2.0 Users API (Genestack ODM's `/api/v1/scim/Users` and any RFC 7644 server).
///
/// One client keeps a pool of keep-alive connections; create it once and share it. Every operation is
/// `async` and throws ``SCIMError``. Call ``shutdown()`` when done.
///
/// ```swift
/// let client = SCIMClient(configuration: .init(host: "http://127.0.0.1:8080", auth: .bearer(token)))
/// for try await user in client.findAll(filter: #"userName eq "bjensen""#) { print(user.userName ?? "") }
/// ```
public final class SCIMClient: Sendable {
    /// The configuration the client was made with.
    public let configuration: SCIMConfiguration
    let transport: any HTTPTransport
    let ownsTransport: Bool
    let observer: (any HTTPExchangeObserver)?
    /// The headers of every request, before the credential (and the content type of a body).
    let headers: [(name: String, value: String)]
    /// The credential, replaced when ``SCIMConfiguration/tokenCommand`` gives a fresh token after a 401.
    let credential: Credential
    /// The proxy requests go through (masked), for traces.
    let via: String?
    /// Why requests must not be sent (a token over plain http to another machine), or `nil`.
    let refusal: String?
    /// The writes sent so far (shared with clients made by ``with(configuration:observer:)``), which listings page
    /// around (``ListingCursor``).
    let writes: WriteCounter

    /// A client with its own connection pool (``AsyncHTTPTransport``), with the configuration's TLS and proxy
    /// settings. Settings that cannot be used (a malformed proxy URL, an unreadable CA file) make every request
    /// fail with a message that says what to fix.
    public convenience init(configuration: SCIMConfiguration, observer: (any HTTPExchangeObserver)? = nil) {
        let transport: any HTTPTransport
        do {
            transport = AsyncHTTPTransport(settings: try configuration.transportSettings())
        } catch {
            transport = FailingTransport(failure: TransportFailure(reason: error.detail, notSent: true))
        }
        self.init(configuration: configuration, transport: transport, owned: true, observer: observer, writes: nil)
    }

    /// A client over a given transport (shared pools, tests of what no server can produce).
    public convenience init(
        configuration: SCIMConfiguration, transport: any HTTPTransport, observer: (any HTTPExchangeObserver)? = nil
    ) {
        self.init(configuration: configuration, transport: transport, owned: false, observer: observer, writes: nil)
    }

    init(
        configuration: SCIMConfiguration, transport: any HTTPTransport, owned: Bool,
        observer: (any HTTPExchangeObserver)?, writes: WriteCounter?
    ) {
        self.writes = writes ?? WriteCounter()
        self.configuration = configuration
        self.transport = transport
        self.ownsTransport = owned
        self.observer = observer
        let headers: [(name: String, value: String)] = [
            ("Accept", SCIMSchema.mediaType + ", application/json"),
            ("User-Agent", configuration.userAgent),
        ]
        self.credential = Credential(configuration.auth, command: configuration.tokenCommand)
        self.headers = headers
        self.via = (try? configuration.effectiveProxy())??.description
        self.refusal = configuration.refusal
    }

    /// A client with another configuration or observer sharing this one's connection pool.
    public func with(configuration: SCIMConfiguration? = nil, observer: (any HTTPExchangeObserver)?) -> SCIMClient {
        SCIMClient(
            configuration: configuration ?? self.configuration, transport: transport, owned: false, observer: observer,
            writes: writes)
    }

    /// The credential requests carry now: the configuration's, or the fresh one a token command gave after the
    /// server answered 401.
    public var currentAuth: SCIMAuth { credential.auth }

    /// Closes the connection pool (only the pool this client created).
    public func shutdown() async {
        if ownsTransport { await transport.shutdown() }
    }

    // MARK: - Operations

    /// Creates a user (`POST /Users`). On ODM this is an upsert: a user with the same userName is updated.
    public func createUser(_ user: SCIMUser) async throws(SCIMError) -> SCIMUser {
        var attrs = user.attributes
        if attrs["schemas"] == nil { attrs["schemas"] = .array([.string(SCIMSchema.user)]) }
        let r = request("POST", path: "/Users", body: .object(attrs))
        let response = try await perform(r, idempotent: false)
        return try decodeUser(response, r)
    }

    /// Fetches one page of users (`GET /Users?filter=&startIndex=&count=`). `startIndex` is 1-based.
    public func findUsers(filter: String? = nil, startIndex: Int = 1, count: Int? = nil) async throws(SCIMError)
        -> ListResponse
    {
        try await findPage(path: "/Users", filter: filter, startIndex: startIndex, count: count)
    }

    /// Streams every user matching `filter`, fetching pages of `pageSize` on demand; at most one page is held.
    ///
    /// Deleting or deactivating the listed users through this client while iterating (which removes them from an
    /// ODM listing) skips nobody: the stream pages around this client's writes (``ListingCursor``) and passes each
    /// user on once.
    public func findAll(filter: String? = nil, pageSize: Int = 100) -> UserStream {
        UserStream(client: self, path: "/Users", pageSize: max(1, pageSize)) { start, count async throws(SCIMError) in
            try await self.findUsers(filter: filter, startIndex: start, count: count)
        }
    }

    /// Fetches one user by id (`GET /Users/{id}`).
    public func getUser(id: String) async throws(SCIMError) -> SCIMUser {
        let r = try userRequest("GET", id: id)
        let response = try await perform(r, idempotent: true)
        return try decodeUser(response, r)
    }

    /// Applies a PATCH (`PATCH /Users/{id}`) and returns the user after it.
    ///
    /// A server may answer `204 No Content` (RFC 7644 §3.5.2): the user after the change is then read with a
    /// GET; if that fails (a server that hides the user now), the result holds the id alone.
    public func patchUser(id: String, operations: [PatchOperation]) async throws(SCIMError) -> SCIMUser {
        let r = try userRequest("PATCH", id: id, body: PatchOperation.body(operations))
        return try await patch(r, id: id, operations: operations) { () async throws(SCIMError) in
            try await self.getUser(id: id)
        }
    }

    /// Deactivates a user (`DELETE /Users/{id}`; ODM keeps the account, inactive).
    public func deleteUser(id: String) async throws(SCIMError) {
        let r = try userRequest("DELETE", id: id)
        _ = try await perform(r, idempotent: true)
    }

    // MARK: - Requests

    /// Builds the request for an operation without sending it (for `explain`).
    public func request(_ method: String, path: String, query: [(String, String)] = [], body: JSONValue? = nil)
        -> HTTPRequestData
    {
        var url = configuration.baseURL + path
        if !query.isEmpty {
            url +=
                "?"
                + query.map { "\(URLEncoding.queryComponent($0.0))=\(URLEncoding.queryComponent($0.1))" }
                .joined(separator: "&")
        }
        var all = headers
        if let auth = credential.header { all.append(auth) }
        if body != nil { all.append(("Content-Type", SCIMSchema.mediaType)) }
        return HTTPRequestData(
            method: method, url: url, headers: all, body: body.map(JSONEncoderFast.encodeBytes), proxy: via)
    }

    /// The request for an operation on one user, with the id escaped as a path segment.
    public func userRequest(_ method: String, id: String, body: JSONValue? = nil) throws(SCIMError) -> HTTPRequestData {
        try resourceRequest(method, collection: "/Users", id: id, body: body)
    }

    /// Fetches one page of a listing (`GET {path}?filter=&startIndex=&count=` and `extraQuery`).
    func findPage<Resource: SCIMResource>(
        path: String, filter: String?, startIndex: Int, count: Int?, extraQuery: [(String, String)] = []
    ) async throws(SCIMError) -> SCIMListResponse<Resource> {
        var query: [(String, String)] = []
        if let filter, !filter.isEmpty { query.append(("filter", filter)) }
        query.append(("startIndex", String(startIndex)))
        if let count { query.append(("count", String(count))) }
        query += extraQuery
        let r = request("GET", path: path, query: query)
        let response = try await perform(r, idempotent: true)
        // Only a large page is counted: a small one is cheap to parse whatever it holds.
        if let count, response.body.count > 1 << 20, let n = ResourceCounter.count(response.body),
            n > SCIMClient.maxResourcesPerPage(asked: count)
        {
            throw .invalidResponse(
                status: response.status,
                detail: "the server sent \(n) Resources for a page of \(count) (count=\(count)); a server must not "
                    + "send more than asked (RFC 7644 §3.4.2.4): scimsh stopped before reading them",
                method: r.method, url: r.url)
        }
        let json = try decodeJSON(response, r)
        guard let page = SCIMListResponse<Resource>(json: json) else {
            throw .invalidResponse(
                status: response.status, detail: "the body is not a SCIM ListResponse", method: r.method, url: r.url)
        }
        return page
    }

    /// Sends a PATCH and returns the resource after it: the body of a 200, or after a `204 No Content` what
    /// `readBack` gets (if that fails, say because the caller can no longer see the resource, the id alone).
    func patch<Resource: SCIMResource>(
        _ r: HTTPRequestData, id: String, operations: [PatchOperation],
        readBack: () async throws(SCIMError) -> Resource
    ) async throws(SCIMError) -> Resource {
        let idempotent = operations.allSatisfy { $0.op == .replace }
        let response = try await perform(r, idempotent: idempotent)
        guard response.status != 204, !response.body.isEmpty else {
            if let after = try? await readBack() { return after }
            return Resource(attributes: JSONObject([("id", .string(id))]))
        }
        return try decodeResource(response, r)
    }

    /// The request for an operation on one resource (`/Users/{id}`, `/Groups/{id}`), with the id escaped as a path
    /// segment.
    func resourceRequest(
        _ method: String, collection: String, id: String, query: [(String, String)] = [], body: JSONValue? = nil
    ) throws(SCIMError) -> HTTPRequestData {
        guard !id.isEmpty else {
            let noun = collection.dropFirst().dropLast().lowercased()
            throw .invalidRequest("empty \(noun) id", method: method, url: configuration.baseURL + collection + "/")
        }
        var r = request(method, path: collection + "/" + URLEncoding.pathSegment(id), query: query, body: body)
        if let ifMatch = ExpectedVersion.header(method: method, collection: collection, id: id) {
            r.headers.append(ifMatch)
        }
        return r
    }

    /// Sends a request with retries and turns error statuses into ``SCIMError``; one thrown after an attempt
    /// that reached the server without an answer has ``SCIMError/mayHaveApplied`` set.
    ///
    /// Retried: connection failures before anything was sent (any method); for idempotent requests also other
    /// transport failures, 429 and 503, with capped exponential backoff honouring Retry-After. POST is retried
    /// only when it certainly never reached the server, or on 429 (the server says it did not process it).
    ///
    /// A 401 with a ``SCIMConfiguration/tokenCommand`` runs the command once (once for all requests that got
    /// the 401 together) and sends the request again with the fresh token; ``RequestNotes`` records it.
    public func perform(_ request: HTTPRequestData, idempotent: Bool) async throws(SCIMError) -> HTTPResponseData {
        var r = request
        if let refusal { throw .invalidRequest(refusal, method: r.method, url: r.url) }
        let isWrite = r.method != "GET"
        if isWrite { writes.begin() }
        defer { if isWrite { writes.end() } }
        let policy = configuration.retry
        var attempt = 1
        var refreshed = false
        var earlierAttemptMayHaveApplied = false
        let deadline = StatementDeadline.current
        while true {
            if Task.isCancelled || (!earlierAttemptMayHaveApplied && Withdrawal.current?.isWithdrawn == true) {
                throw .cancelled(method: r.method, url: r.url)
            }
            var timeout = configuration.timeout
            if let deadline {
                guard deadline.remaining > .zero else {
                    throw .transport(
                        "the statement ran out of time (\(deadline.setting))", method: r.method, url: r.url)
                }
                timeout = min(timeout, deadline.remaining)
            }
            observer?.willSend(r, attempt: attempt)
            let start = ContinuousClock.now
            var retryAfter: Duration?
            var failure: SCIMError
            do {
                let response = try await transport.send(r, timeout: timeout)
                observer?.didReceive(response, for: r, duration: ContinuousClock.now - start)
                if (200..<300).contains(response.status) { return response }
                if response.status == 401, !refreshed, credential.command != nil {
                    refreshed = true
                    try await refreshToken(after: response, for: &r)
                    attempt += 1
                    continue
                }
                if response.status == 404, r.method == "DELETE", earlierAttemptMayHaveApplied {
                    // An earlier attempt reached the server but its answer was lost; ODM now hides the user
                    // it deactivated. The delete happened: report it as done.
                    return HTTPResponseData(status: 204, headers: [], body: [])
                }
                if response.status == 429 || response.status == 503 { Throttle.observer?.serverThrottled() }
                let conditional = r.headers.contains { $0.name == "If-Match" }
                if response.status == 412, earlierAttemptMayHaveApplied, conditional {
                    // The lost attempt most likely applied and changed the version the retry still names.
                    throw SCIMError.transport(
                        "the answer was lost after the request was sent, and the retry got 412 Precondition "
                            + "Failed: the first attempt has probably applied; read the resource to check",
                        method: r.method, url: r.url)
                }
                failure = decodeError(response, r)
                failure.mayHaveApplied = earlierAttemptMayHaveApplied
                let retryable = response.status == 429 || (response.status == 503 && idempotent)
                guard retryable, attempt < policy.maxAttempts else { throw failure }
                retryAfter = failure.retryAfterSeconds.flatMap(SCIMClient.retryDelay)
            } catch let e as SCIMError {
                throw e
            } catch is CancellationError {
                observer?.didFail("cancelled", for: r, duration: ContinuousClock.now - start)
                throw .cancelled(method: r.method, url: r.url)
            } catch {
                let t = error as? TransportFailure ?? TransportFailure(reason: "\(error)", notSent: false)
                observer?.didFail(t.reason, for: r, duration: ContinuousClock.now - start)
                if !t.notSent { earlierAttemptMayHaveApplied = true }
                if t.notSent, !earlierAttemptMayHaveApplied, Withdrawal.current?.isWithdrawn == true {
                    throw .cancelled(method: r.method, url: r.url)
                }
                var reason = scrub(t.reason)
                if let deadline, deadline.remaining <= .zero {
                    reason += " (the statement ran out of time: \(deadline.setting))"
                }
                failure = .transport(reason, method: r.method, url: r.url)
                failure.mayHaveApplied = earlierAttemptMayHaveApplied
                guard t.notSent || idempotent, attempt < policy.maxAttempts else { throw failure }
            }
            let delay = policy.delay(attempt: attempt, retryAfter: retryAfter)
            // No retry that could not finish in time: the last failure ends the request now.
            if let deadline, delay >= deadline.remaining { throw failure }
            do {
                try await Task.sleep(for: delay)
            } catch {
                throw .cancelled(method: r.method, url: r.url)
            }
            attempt += 1
        }
    }

    /// Runs the token command (unless a request that got the same 401 already did) and puts the fresh
    /// credential into `r`; a failing command ends in the 401 with the reason added.
    func refreshToken(after response: HTTPResponseData, for r: inout HTTPRequestData) async throws(SCIMError) {
        let used = r.headers.first { $0.name == credential.header?.name }?.value
        do {
            try await credential.refresh(replacing: used)
        } catch {
            let e = decodeError(response, r)
            throw .http(
                status: 401, scimType: e.scimType,
                detail: scrub(e.detail + "; running token_command for a fresh token failed: \(error)"),
                method: r.method, url: r.url)
        }
        RequestNotes.current?.noteTokenRefreshed()
        if let header = credential.header {
            r.headers.removeAll { $0.name == header.name }
            r.headers.append(header)
        }
    }

    // MARK: - Decoding

    /// The most Resources a page asked with `count` may hold: servers that ignore `count` and send a whole small
    /// listing at once are tolerated, a page of a million is not.
    static func maxResourcesPerPage(asked count: Int) -> Int { max(10 * count, 10_000) }

    func decodeJSON(_ response: HTTPResponseData, _ r: HTTPRequestData) throws(SCIMError) -> JSONValue {
        do {
            // The answer (and the large-answer permit it may hold) lives until it is decoded.
            return try withExtendedLifetime(response) { () throws(JSONParseError) in try JSONParser.parse(response.body)
            }
        } catch {
            throw .invalidResponse(
                status: response.status, detail: SCIMClient.describeBody(response, problem: error.message),
                method: r.method, url: r.url)
        }
    }

    func decodeUser(_ response: HTTPResponseData, _ r: HTTPRequestData) throws(SCIMError) -> SCIMUser {
        ExpectedVersion.addingETag(of: response, to: try decodeResource(response, r))
    }

    func decodeResource<Resource: SCIMResource>(_ response: HTTPResponseData, _ r: HTTPRequestData) throws(SCIMError)
        -> Resource
    {
        let json = try decodeJSON(response, r)
        guard let resource = Resource(json: json) else {
            throw .invalidResponse(
                status: response.status, detail: "the body is not a SCIM \(Resource.resourceType) object",
                method: r.method, url: r.url)
        }
        return resource
    }

    /// Reads an error response: the SCIM error body, the `{"error":{"message":…}}` form ODM uses for 401 and
    /// 500, or anything else (HTML from a proxy, empty, truncated JSON), described briefly.
    func decodeError(_ response: HTTPResponseData, _ r: HTTPRequestData) -> SCIMError {
        var scimType: String?
        var detail: String?
        if let json = try? JSONParser.parse(response.body), let o = json.objectValue {
            if let d = o["detail"]?.stringValue { detail = d }
            if let t = o["scimType"]?.stringValue { scimType = t }
            if detail == nil, let e = o["error"] {
                detail = e["message"]?.stringValue ?? e.stringValue
            }
            if detail == nil, let m = o["message"]?.stringValue { detail = m }
            if detail == nil { detail = "no detail in the error body" }
        }
        let retryAfter = response.header("Retry-After").flatMap(SCIMClient.parseRetryAfter)
        return .http(
            status: response.status, scimType: scimType,
            detail: scrub(detail ?? SCIMClient.describeBody(response, problem: nil)), method: r.method, url: r.url,
            retryAfterSeconds: retryAfter)
    }

    /// A short description of a body that is not the expected JSON.
    static func describeBody(_ response: HTTPResponseData, problem: String?) -> String {
        if response.body.isEmpty { return "empty body" }
        let type = response.header("Content-Type") ?? "no content type"
        var text = String(decoding: response.body.prefix(200), as: UTF8.self)
        text = text.map { $0.isNewline || $0 == "\t" ? " " : String($0) }.joined()
        text = String(text.prefix(80))
        var s = "body is not JSON (\(type), \(response.body.count) bytes"
        if let problem { s += "; \(problem)" }
        return s + "): \(text)"
    }

    /// The longest Retry-After honoured, in seconds (a day); the retry policy caps the wait further.
    static let maxRetryAfter: Double = 86_400

    /// Retry-After as seconds: a number, or an HTTP date (then relative to now). A date out of range (a year of
    /// 11 digits, hour 99…) is ignored (`nil`).
    static func parseRetryAfter(_ value: String) -> Double? {
        let v = value.trimmedSpaces
        if let s = Double(v), s >= 0, s.isFinite { return s }
        // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT"
        let parts = v.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), (1...31).contains(day),
            let month = months.firstIndex(of: String(parts[2])), let year = Int(parts[3]), (1900...9999).contains(year)
        else { return nil }
        let hms = parts[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, (0...23).contains(hms[0]), (0...59).contains(hms[1]), (0...60).contains(hms[2])
        else { return nil }
        var tmv = tm()
        tmv.tm_year = Int32(year - 1900)
        tmv.tm_mon = Int32(month)
        tmv.tm_mday = Int32(day)
        tmv.tm_hour = Int32(hms[0])
        tmv.tm_min = Int32(hms[1])
        tmv.tm_sec = Int32(hms[2])
        let when = timegm(&tmv)
        let now = time(nil)
        return Double(max(0, when - now))
    }

    /// A Retry-After in seconds as a delay, at most ``maxRetryAfter`` (`nil` for a negative or non-finite value).
    static func retryDelay(seconds: Double) -> Duration? {
        guard seconds.isFinite, seconds >= 0 else { return nil }
        return .milliseconds(Int64(min(seconds, maxRetryAfter) * 1000))
    }

    /// Removes the credentials (the configured one and any fresh one) from text that came from elsewhere (a
    /// server could echo it).
    func scrub(_ text: String) -> String {
        SecretMask([configuration.auth.secret, credential.auth.secret].compactMap { $0 }).apply(text)
    }
}

/// Percent-encoding for URLs (RFC 3986).
public enum URLEncoding {
    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x2E
            || b == 0x5F || b == 0x7E
    }

    static func encode(_ s: String, keep: (UInt8) -> Bool) -> String {
        // Nearly every id and query value needs no escaping: return it as it is, without copying.
        if s.utf8.withContiguousStorageIfAvailable({ $0.allSatisfy(keep) }) == true { return s }
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if keep(b) {
                out.append(b)
            } else {
                out.append(0x25)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Encodes a query name or value: everything but unreserved characters.
    public static func queryComponent(_ s: String) -> String { encode(s, keep: isUnreserved) }

    /// Encodes one path segment (a user id): everything but unreserved characters, `@` and `:` (so `/` is `%2F`).
    public static func pathSegment(_ s: String) -> String {
        encode(s) { b in isUnreserved(b) || b == UInt8(ascii: "@") || b == UInt8(ascii: ":") }
    }
}
