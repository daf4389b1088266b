import SCIMCore

/// The version of scimsh's client, sent in the User-Agent header.
public enum SCIMClientVersion {
    /// The version string.
    public static let current = "0.1.0"
}

/// How the client authenticates.
public enum SCIMAuth: Sendable, Hashable, CustomStringConvertible {
    /// No credentials.
    case none
    /// `Authorization: Bearer TOKEN` (ODM's "Access-token").
    case bearer(String)
    /// `Genestack-API-Token: TOKEN`.
    case apiToken(String)

    /// The header that carries the credential, if any. Its value is a secret.
    public var header: (name: String, value: String)? {
        switch self {
        case .none: return nil
        case .bearer(let t): return ("Authorization", "Bearer " + t)
        case .apiToken(let t): return ("Genestack-API-Token", t)
        }
    }

    /// The secret itself, for scrubbing it out of text.
    public var secret: String? {
        switch self {
        case .none: return nil
        case .bearer(let t), .apiToken(let t): return t.isEmpty ? nil : t
        }
    }

    /// A description that never contains the secret.
    public var description: String {
        switch self {
        case .none: return "none"
        case .bearer: return "bearer ****"
        case .apiToken: return "api-token ****"
        }
    }
}

/// When and how often failed requests are retried.
public struct RetryPolicy: Sendable, Hashable {
    /// Total attempts including the first (1 disables retries).
    public var maxAttempts: Int
    /// The first backoff delay; each retry doubles it.
    public var baseDelay: Duration
    /// The longest delay between attempts, also the cap on a server's Retry-After.
    public var maxDelay: Duration

    /// A policy.
    public init(maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(5)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The default: 4 attempts, 200 ms doubling, capped at 5 s.
    public static let standard = RetryPolicy()
    /// No retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The delay before retry number `attempt` (1-based), honouring a server's Retry-After within the cap.
    public func delay(attempt: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return min(retryAfter, maxDelay) }
        var d = baseDelay
        for _ in 1..<max(1, attempt) where d < maxDelay { d = d * 2 }
        return min(d, maxDelay)
    }
}

/// Everything needed to talk to one SCIM server.
public struct SCIMConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// The server's origin, e.g. `https://odm.example.com` or `http://127.0.0.1:8080`.
    public var host: String
    /// The SCIM base path: `/api/v1/scim` on ODM, `/scim/v2` or `/` elsewhere.
    public var basePath: String
    /// Credentials.
    public var auth: SCIMAuth
    /// The deadline for one attempt of one request.
    public var timeout: Duration
    /// Retry behaviour for idempotent requests.
    public var retry: RetryPolicy
    /// The User-Agent header.
    public var userAgent: String
    /// The most connections kept open to the server at once.
    public var maxConnections: Int

    /// ODM's SCIM base path.
    public static let odmBasePath = "/api/v1/scim"

    /// A configuration.
    public init(
        host: String,
        basePath: String = SCIMConfiguration.odmBasePath,
        auth: SCIMAuth = .none,
        timeout: Duration = .seconds(30),
        retry: RetryPolicy = .standard,
        userAgent: String = "scimsh/\(SCIMClientVersion.current)",
        maxConnections: Int = 64
    ) {
        self.host = host
        self.basePath = basePath
        self.auth = auth
        self.timeout = timeout
        self.retry = retry
        self.userAgent = userAgent
        self.maxConnections = maxConnections
    }

    /// The base URL: host and base path joined with exactly one slash.
    public var baseURL: String {
        var h = host
        while h.hasSuffix("/") { h.removeLast() }
        var p = basePath
        while p.hasSuffix("/") { p.removeLast() }
        if !p.isEmpty, !p.hasPrefix("/") { p = "/" + p }
        return h + p
    }

    /// A description that never contains the secret.
    public var description: String { "\(baseURL) (auth: \(auth))" }
}
