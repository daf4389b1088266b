import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
public import SCIMCore

/// An ODM-compatible SCIM 2.0 Users and Groups service provider held in memory: the users, the groups, the fault
/// switches and the request log, without a listening socket.
///
/// ``SandboxServer`` puts one on a TCP port; tests can also drive it in-process through
/// ``makeApplication()`` and HummingbirdTesting. All methods are thread-safe.
///
/// Behaviour worth knowing (ODM's where it is known, a documented choice where it is not):
/// - Routes: `POST|GET {base}/Users`, `GET|PATCH|DELETE {base}/Users/{id}`, and the same for `/Groups`, on
///   Hummingbird's router with the request log, fault injection and authentication as middleware (`makeRouter()`).
///   Any other path is 404, any other method 405 with `Allow`; both are answered before authentication.
/// - Auth: `Authorization: Bearer TOKEN` or `Genestack-API-Token: TOKEN`. Every token speaks for a user (see
///   ``SandboxConfiguration``). A missing or unknown token is 401 with `{"error":{"message":...}}`; a token
///   without "Manage organization" (the limited token and ``SandboxConfiguration/userTokens``) is 403 with a
///   SCIM error for every Users request. With
///   ``SandboxConfiguration/tokenLifetime`` tokens expire (401, same body shape) and derived admin tokens
///   (`ADMIN.suffix`) are accepted.
/// - Bodies must be `application/scim+json` or `application/json` (parameters such as `charset` allowed; no
///   `Content-Type` at all is accepted): another type is 415. Bodies over
///   ``SandboxConfiguration/maxBodySize`` are 413; malformed JSON is 400 `invalidSyntax`.
/// - Create is an upsert keyed on userName (case-insensitive): an existing user is updated in place (201,
///   same id, same `created`); its externalId is kept when the body has none. A create or PATCH whose
///   externalId belongs to another user, or a PATCH to a taken userName, is 409 `uniqueness`. `active`
///   defaults to `true`; email `type` to `work` and `primary` to `true`. Unknown attributes are not stored.
/// - List: active users only, in creation order. `startIndex` < 1 counts as 1, `count` < 0 as 0, `count`
///   above ``SandboxConfiguration/maxPageSize`` is capped; non-numeric values are 400 `invalidValue`. An
///   empty `filter` is no filter. Only `eq` and `and` (also inside `emails[...]`) are supported; other
///   operators are 400 `invalidFilter` unless ``SandboxConfiguration/ignoreUnsupportedFilterClauses``.
/// - Get and delete see active users only: a deactivated user is 404 like an unknown id, so a second
///   DELETE of the same user is 404 (PATCH still reaches deactivated users and can reactivate them).
/// - Groups, per caller, as ODM's Groups API: a list shows the groups the caller is a member of (every group
///   with "Manage groups"), filtered by `displayName eq "…"` only (another filter is 400 `invalidFilter`, the
///   match is exact), `count` 100 by default; `excludedAttributes=members` leaves members out of a list or a
///   get. A group the caller cannot see is 404. Create needs `displayName` and no members (400) and makes the
///   caller the group's only member, as "Group admin"; names may repeat. PATCH (add, replace, remove of
///   `displayName`, `externalId`, `members`; `id` is 400; atomic) and DELETE need the "Group admin" role in the
///   group or "Manage groups" (else 403); PATCH answers 204 with no body. Deleting a group leaves its users as
///   they are; deactivating a user leaves its memberships.
/// - Responses are `application/scim+json`, except the `{"error":...}` bodies of 401, 429 and 500, which
///   ODM's web layer sends as `application/json`; an injected 503 has an HTML body, as a proxy sends it.
public final class Sandbox: Sendable {
    /// The configuration the sandbox was made with (fault switches may have changed since: see ``faults``).
    public let configuration: SandboxConfiguration
    let basePath: String
    let store: NIOLockedValueBox<UserStore>
    let log: NIOLockedValueBox<RequestLog>
    let faultState: NIOLockedValueBox<FaultState>
    /// How many requests each token has been honoured for (kept only with ``SandboxConfiguration/tokenLifetime``).
    let tokenUses = NIOLockedValueBox<[String: Int]>([:])

    /// A sandbox with the seed users (if configured) and `generatedUsers` generated ones.
    public init(configuration: SandboxConfiguration = SandboxConfiguration()) {
        self.configuration = configuration
        basePath = configuration.normalizedBasePath
        var store = UserStore(seed: configuration.seed)
        if configuration.seedUsers {
            store.addSeedUsers()
            store.addSeedGroups()
        }
        store.addGeneratedUsers(configuration.generatedUsers, timestamp: Sandbox.nowMilliseconds())
        self.store = NIOLockedValueBox(store)
        log = NIOLockedValueBox(RequestLog(limit: max(1, configuration.requestLogLimit)))
        faultState = NIOLockedValueBox(FaultState(faults: configuration.faults, seed: configuration.seed))
    }

    /// `https` when the configuration has ``SandboxConfiguration/tls``, else `http`.
    var scheme: String { configuration.tls == nil ? "http" : "https" }

    // MARK: Observing

    /// Every user, deactivated ones included, in creation order, as SCIM resources (without `meta.location`).
    public func users() -> [JSONObject] {
        store.withLockedValue { store in store.order.compactMap { store.user(id: $0)?.resource() } }
    }

    /// One user by id, deactivated or not.
    public func user(id: String) -> JSONObject? {
        store.withLockedValue { $0.user(id: id)?.resource() }
    }

    /// Every group in creation order, as SCIM resources with members (relative `$ref`s, no `meta.location`).
    public func groups() -> [JSONObject] {
        store.withLockedValue { store in store.groups.order.compactMap { groupResource(id: $0, in: store) } }
    }

    /// One group by id, as ``groups()`` shows it.
    public func group(id: String) -> JSONObject? {
        store.withLockedValue { groupResource(id: id, in: $0) }
    }

    private func groupResource(id: String, in store: UserStore) -> JSONObject? {
        store.groups.group(id: id)?.resource(
            users: store, refBase: basePath + "/Users/", location: nil, includeMembers: true)
    }

    /// The number of users, deactivated ones included.
    public var userCount: Int { store.withLockedValue { $0.count } }

    /// The requests answered so far (the most recent ``SandboxConfiguration/requestLogLimit``), oldest first.
    public func requestLog() -> [SandboxRequest] {
        log.withLockedValue { $0.entries }
    }

    /// Empties the request log.
    public func clearLog() {
        log.withLockedValue { $0.removeAll() }
    }

    // MARK: Faults

    /// The fault switches in force.
    public var faults: SandboxFaults { faultState.withLockedValue { $0.faults } }

    /// Replaces the fault switches; ``SandboxFaults/failFirst`` counts from now.
    public func setFaults(_ faults: SandboxFaults) {
        faultState.withLockedValue { $0.set(faults) }
    }

    /// Changes some fault switches, keeping the others; `failFirst` counts from now.
    public func setFaults(
        latency: Duration? = nil, failureRate: Double? = nil, failFirst: Int? = nil, retryAfterSeconds: Int? = nil
    ) {
        faultState.withLockedValue { state in
            var f = state.faults
            if let latency { f.latency = latency }
            if let failureRate { f.failureRate = failureRate }
            if let failFirst { f.failFirst = failFirst }
            if let retryAfterSeconds { f.retryAfterSeconds = retryAfterSeconds }
            state.set(f)
        }
    }

    /// Makes the next `count` requests fail with `failure`, before any other fault switch is consulted.
    public func failNext(_ failure: InjectedFailure, count: Int = 1) {
        guard count > 0 else { return }
        faultState.withLockedValue { $0.forced.append(contentsOf: repeatElement(failure, count: count)) }
    }

    // MARK: Serving

    /// A Hummingbird application serving this sandbox at ``SandboxConfiguration/host`` and
    /// ``SandboxConfiguration/port``, for in-process tests with HummingbirdTesting
    /// (`try await sandbox.makeApplication().test(.router) { client in ... }`).
    public func makeApplication() -> some ApplicationProtocol {
        makeApplication(onServerRunning: { _ in })
    }

    func makeApplication(
        server: HTTPServerBuilder = .http1(),
        onServerRunning: @escaping @Sendable (any Channel) async -> Void
    ) -> Application<RouterResponder<SandboxContext>> {
        Application(
            router: makeRouter(),
            server: server,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: nil
            ),
            onServerRunning: onServerRunning,
            logger: Logger(label: "scimsh.sandbox", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    static func response(_ reply: SandboxReply) -> Response {
        var fields = HTTPFields()
        if let type = reply.contentType { fields[.contentType] = type }
        for (name, value) in reply.headers { fields.append(HTTPField(name: name, value: value)) }
        let status = HTTPResponse.Status(code: reply.status)
        if reply.body.isEmpty {
            return Response(status: status, headers: fields)
        }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    func injected(_ failure: InjectedFailure) -> SandboxReply {
        let retryAfter = String(max(0, faults.retryAfterSeconds))
        switch failure {
        case .internalServerError:
            return .plainError(500, "Internal server error (injected by the scimsh sandbox)")
        case .tooManyRequests:
            return .plainError(
                429, "Too many requests (injected by the scimsh sandbox)", headers: [(.retryAfter, retryAfter)])
        case .serviceUnavailable:
            let html =
                "<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
                + "<h1>503 Service Temporarily Unavailable</h1><p>injected by the scimsh sandbox</p></body></html>\n"
            return SandboxReply(
                status: 503, contentType: "text/html; charset=utf-8", body: Array(html.utf8),
                headers: [(.retryAfter, retryAfter)])
        }
    }

    static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}

/// The bounded request log.
///
/// Trimming is amortised (the buffer may grow to twice the limit before the oldest half goes), so logging
/// stays O(1) per request under load.
struct RequestLog: Sendable {
    private var storage: [SandboxRequest] = []
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// The most recent `limit` entries, oldest first.
    var entries: [SandboxRequest] { Array(storage.suffix(limit)) }

    mutating func append(_ entry: SandboxRequest) {
        storage.append(entry)
        if storage.count >= 2 * limit { storage.removeFirst(storage.count - limit) }
    }

    mutating func removeAll() { storage.removeAll() }
}

/// The fault switches and their counters.
struct FaultState: Sendable {
    var faults: SandboxFaults
    var remainingFailFirst: Int
    var forced: [InjectedFailure] = []
    var random: SplitMix64

    init(faults: SandboxFaults, seed: UInt64) {
        self.faults = faults
        remainingFailFirst = max(0, faults.failFirst)
        random = SplitMix64(seed: seed ^ 0xFA17)
    }

    mutating func set(_ faults: SandboxFaults) {
        self.faults = faults
        remainingFailFirst = max(0, faults.failFirst)
    }

    /// The latency and the failure, if any, for the next request.
    mutating func nextRequest() -> (Duration, InjectedFailure?) {
        if !forced.isEmpty { return (faults.latency, forced.removeFirst()) }
        if remainingFailFirst > 0 {
            remainingFailFirst -= 1
            return (faults.latency, .serviceUnavailable)
        }
        if faults.failureRate > 0 {
            let draw = Double(random.next() >> 11) / Double(1 << 53)
            if draw < faults.failureRate { return (faults.latency, .serviceUnavailable) }
        }
        return (faults.latency, nil)
    }
}
