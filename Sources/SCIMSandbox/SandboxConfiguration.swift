import SCIMCore

/// How a ``SandboxServer`` (or an in-process ``Sandbox``) is set up.
///
/// Every property has a default meant for local use, so `SandboxConfiguration()` gives a server on a free
/// loopback port, at ODM's base path, with the seed users, the seed groups and no injected faults.
///
/// ## Tokens and who they are
///
/// Every token speaks for a seed user, as an ODM token speaks for the person who made it:
///
/// | token (default) | user | permissions | Users API | Groups API |
/// |---|---|---|---|---|
/// | `scimsh-sandbox-admin` (``adminToken``) | `alice.martin` | "Manage organization", "Manage groups" | all | all |
/// | `scimsh-sandbox-limited` (``limitedToken``) | `tnguyen` | none | 403 | the groups `tnguyen` is in |
/// | `scimsh-sandbox-rkumar` (``userTokens``) | `rkumar` | none | 403 | the groups `rkumar` is in |
/// | `scimsh-sandbox-mgarcia` (``userTokens``) | `mgarcia` | none | 403 | the groups `mgarcia` is in |
///
/// The seed groups: "Engineering" (`rkumar` its group admin, `tnguyen`, `svc-pipeline`), "Data Stewards"
/// (`mgarcia` its group admin, `rkumar`, `bjensen` and the deactivated `okoval`) and "Curators" (`alice.martin`
/// its group admin, `mgarcia`). A token keeps working whatever happens to its user (deactivating `alice.martin`
/// does not lock the admin out), and without ``seedUsers`` the tokens still speak for those users' ids.
public struct SandboxConfiguration: Sendable {
    /// The default admin token: `alice.martin`, with the "Manage organization" and "Manage groups" permissions.
    public static let defaultAdminToken = "scimsh-sandbox-admin"
    /// The default limited token: `tnguyen`, a plain user without the "Manage organization" permission (every
    /// Users request gets 403), who sees and edits groups as a member does.
    public static let defaultLimitedToken = "scimsh-sandbox-limited"
    /// The default tokens of further plain users: `scimsh-sandbox-rkumar` (`rkumar`, admin of the group
    /// "Engineering", a plain member of "Data Stewards") and `scimsh-sandbox-mgarcia` (`mgarcia`, admin of
    /// "Data Stewards", a plain member of "Curators"); token → user id.
    public static let defaultUserTokens: [String: String] = [
        "scimsh-sandbox-rkumar": SeedIds.rkumar,
        "scimsh-sandbox-mgarcia": SeedIds.mgarcia,
    ]
    /// The user the default admin token speaks for: `alice.martin`'s id.
    public static let defaultAdminUserId = SeedIds.aliceMartin
    /// The user the default limited token speaks for: `tnguyen`'s id.
    public static let defaultLimitedUserId = SeedIds.tnguyen

    /// The address to listen on. The default, loopback only, keeps the sandbox off the network.
    public var host: String
    /// The TCP port; 0 picks a free one (read it back from ``SandboxServer/port``).
    public var port: Int
    /// The path prefix of the SCIM endpoints: ODM's `/api/v1/scim` by default; other servers use `/scim/v2`
    /// or `/` (the empty prefix). A trailing slash is ignored.
    public var basePath: String
    /// The token with the "Manage organization" and "Manage groups" permissions.
    public var adminToken: String
    /// The id of the user the admin token speaks for (the member a group it creates starts with).
    public var adminUserId: String
    /// A valid token without the "Manage organization" permission: Users requests carrying it get 403; in the
    /// Groups API it is a plain user.
    public var limitedToken: String
    /// The id of the user the limited token speaks for.
    public var limitedUserId: String
    /// Tokens of plain users (no permission), token → user id: 403 for every Users request, the groups the user is
    /// a member of in the Groups API. They expire like the others with ``tokenLifetime``.
    public var userTokens: [String: String]
    /// How many users `user00001`, `user00002`, ... to generate after the seed users (for load and paging tests).
    public var generatedUsers: Int
    /// Whether to load the small realistic seed set (RFC 7643's `bjensen` among them, two of them inactive) and the
    /// seed groups.
    public var seedUsers: Bool
    /// A delay added to every request before it is handled.
    public var latency: Duration
    /// The share (0...1) of requests answered `503 Service Unavailable` with a `Retry-After` header.
    public var failureRate: Double
    /// The number of first requests answered `503 Service Unavailable` (deterministic, for retry tests).
    public var failFirst: Int
    /// The `Retry-After` value, in seconds, sent with injected 503 and 429 answers.
    public var retryAfterSeconds: Int
    /// The seed of the pseudo-random generator behind ``failureRate`` and the ids of created users, so a run
    /// can be repeated exactly.
    public var seed: UInt64
    /// When `true` the sandbox mimics a sloppy server: filter clauses ODM does not support (`co`, `pr`, `or`,
    /// `not`, ...) are silently dropped instead of answered with `400 invalidFilter`, and the remaining `eq`
    /// and `and` parts are evaluated (no clause left: every active user matches).
    public var ignoreUnsupportedFilterClauses: Bool
    /// The largest `count` a list request is served with; larger values are capped.
    public var maxPageSize: Int
    /// The largest request body accepted, in bytes; larger ones get `413 Payload Too Large`.
    public var maxBodySize: Int
    /// How many requests ``Sandbox/requestLog()`` keeps (the oldest are dropped first).
    public var requestLogLimit: Int
    /// When set, ``SandboxServer`` serves HTTPS with this certificate and key (and, with a client CA, requires a
    /// client certificate); `nil` serves plain HTTP. In-process tests through ``Sandbox/makeApplication()``
    /// ignore it.
    public var tls: SandboxTLS?
    /// When set, every accepted token is honoured for this many requests and then answered
    /// `401` with ODM's body `{"error":{"message":"Authentication failed: token expired ..."}}` and
    /// `WWW-Authenticate: Bearer error="invalid_token"`; `nil` (the default) lets tokens live forever.
    ///
    /// So that a test can hand out fresh tokens (a "token command"), a lifetime also makes the sandbox accept
    /// *derived* admin tokens: the admin token, a `.` and a suffix of 1–64 characters from `[A-Za-z0-9_-]`
    /// (`scimsh-sandbox-admin.2`). Each has the admin's rights and its own request counter. The limited token
    /// expires likewise; it has no derived tokens. Only requests that reach authentication count: 404, 405
    /// and injected faults do not.
    public var tokenLifetime: Int?
    /// When set, at most this many requests a second are served (a token bucket, RateLimit.swift); the rest are
    /// answered `429 Too Many Requests` with `Retry-After`.
    public var rateLimit: Int?

    /// A configuration; every argument has a default suitable for local use and tests.
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        basePath: String = "/api/v1/scim",
        adminToken: String = SandboxConfiguration.defaultAdminToken,
        limitedToken: String = SandboxConfiguration.defaultLimitedToken,
        adminUserId: String = SandboxConfiguration.defaultAdminUserId,
        limitedUserId: String = SandboxConfiguration.defaultLimitedUserId,
        userTokens: [String: String] = SandboxConfiguration.defaultUserTokens,
        generatedUsers: Int = 0,
        seedUsers: Bool = true,
        latency: Duration = .zero,
        failureRate: Double = 0,
        failFirst: Int = 0,
        retryAfterSeconds: Int = 1,
        seed: UInt64 = 0x5C1A_5EED,
        ignoreUnsupportedFilterClauses: Bool = false,
        maxPageSize: Int = 1000,
        maxBodySize: Int = 1 << 20,
        requestLogLimit: Int = 10_000,
        tls: SandboxTLS? = nil,
        tokenLifetime: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.basePath = basePath
        self.adminToken = adminToken
        self.limitedToken = limitedToken
        self.adminUserId = adminUserId
        self.limitedUserId = limitedUserId
        self.userTokens = userTokens
        self.generatedUsers = generatedUsers
        self.seedUsers = seedUsers
        self.latency = latency
        self.failureRate = failureRate
        self.failFirst = failFirst
        self.retryAfterSeconds = retryAfterSeconds
        self.seed = seed
        self.ignoreUnsupportedFilterClauses = ignoreUnsupportedFilterClauses
        self.maxPageSize = maxPageSize
        self.maxBodySize = maxBodySize
        self.requestLogLimit = requestLogLimit
        self.tls = tls
        self.tokenLifetime = tokenLifetime
    }

    /// The fault switches of this configuration.
    public var faults: SandboxFaults {
        SandboxFaults(
            latency: latency,
            failureRate: failureRate,
            failFirst: failFirst,
            retryAfterSeconds: retryAfterSeconds
        )
    }

    /// ``basePath`` normalised: a leading slash, no trailing slash, `""` for the root.
    var normalizedBasePath: String {
        var p = basePath.trimmingWhitespace()
        while p.hasSuffix("/") { p.removeLast() }
        if !p.isEmpty, !p.hasPrefix("/") { p = "/" + p }
        return p
    }
}

/// The fault-injection switches, changeable while the server runs with ``Sandbox/setFaults(_:)``.
public struct SandboxFaults: Sendable, Equatable {
    /// A delay added to every request.
    public var latency: Duration
    /// The share (0...1) of requests answered `503` with `Retry-After`.
    public var failureRate: Double
    /// The number of next requests answered `503` with `Retry-After` (counted from when the switches are set).
    public var failFirst: Int
    /// The `Retry-After` value, in seconds, of injected 503 and 429 answers.
    public var retryAfterSeconds: Int

    /// Fault switches; the defaults inject nothing.
    public init(latency: Duration = .zero, failureRate: Double = 0, failFirst: Int = 0, retryAfterSeconds: Int = 1) {
        self.latency = latency
        self.failureRate = failureRate
        self.failFirst = failFirst
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// A failure the sandbox can be told to answer the next request(s) with (see ``Sandbox/failNext(_:count:)``).
public enum InjectedFailure: Sendable, Equatable {
    /// `500 Internal Server Error` with ODM's `{"error":{"message":...}}` body.
    case internalServerError
    /// `503 Service Unavailable` with a `Retry-After` header and an HTML body, as a proxy sends it.
    case serviceUnavailable
    /// `429 Too Many Requests` with a `Retry-After` header and an `{"error":...}` body.
    case tooManyRequests
}

/// One request the sandbox answered, for tests to inspect.
public struct SandboxRequest: Sendable, Equatable, CustomStringConvertible {
    /// The HTTP method, e.g. `GET`.
    public var method: String
    /// The request target as received: path and query, e.g. `/api/v1/scim/Users?count=10`.
    public var uri: String
    /// The status code answered.
    public var status: Int
    /// Whether the method writes (POST, PUT, PATCH, DELETE), whatever the outcome.
    public var isWrite: Bool
    /// Whether the request changed the store (a write that succeeded and altered a user).
    public var changedStore: Bool

    /// A log entry.
    public init(method: String, uri: String, status: Int, isWrite: Bool, changedStore: Bool) {
        self.method = method
        self.uri = uri
        self.status = status
        self.isWrite = isWrite
        self.changedStore = changedStore
    }

    /// `GET /api/v1/scim/Users/x -> 404`.
    public var description: String { "\(method) \(uri) -> \(status)" }
}
