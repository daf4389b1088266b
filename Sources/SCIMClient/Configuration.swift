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
    /// Certificate checks and the client certificate for HTTPS.
    public var tls: TLSSettings
    /// The proxy URL (`http://[user:password@]host:port`), or `nil` for none. ``applyingEnvironment(_:)`` fills
    /// it from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` when it is not set.
    public var proxy: String?
    /// The hosts reached without the proxy (`NO_PROXY`'s rules, see ``NoProxyRules``).
    public var noProxy: String?
    /// Whether a credential may be sent over plain `http://` to a host that is not this machine. Off by
    /// default: anyone on the path could read the token.
    public var allowHTTP: Bool
    /// A command line whose output is a fresh token (`pass show odm/prod`), run again when the server answers
    /// 401 (the token expired); `nil`: a 401 is final. The command runs without a shell.
    public var tokenCommand: String?

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
        maxConnections: Int = 64,
        tls: TLSSettings = TLSSettings(),
        proxy: String? = nil,
        noProxy: String? = nil,
        allowHTTP: Bool = false,
        tokenCommand: String? = nil
    ) {
        self.host = host
        self.basePath = basePath
        self.auth = auth
        self.timeout = timeout
        self.retry = retry
        self.userAgent = userAgent
        self.maxConnections = maxConnections
        self.tls = tls
        self.proxy = proxy
        self.noProxy = noProxy
        self.allowHTTP = allowHTTP
        self.tokenCommand = tokenCommand
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

    /// The scheme, host and port of ``host`` (`nil` when it is not an `http://` or `https://` URL).
    public var origin: (scheme: String, host: String, port: Int)? {
        let lower = host.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") {
            scheme = "https"
        } else if lower.hasPrefix("http://") {
            scheme = "http"
        } else {
            return nil
        }
        var authority = Substring(host.dropFirst(scheme.count + 3))
        if let end = authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
            authority = authority[..<end]
        }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var name = authority
        var port = scheme == "https" ? 443 : 80
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            name = authority[...close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":"), let p = Int(after.dropFirst()) { port = p }
        } else if let colon = authority.lastIndex(of: ":") {
            name = authority[..<colon]
            if let p = Int(authority[authority.index(after: colon)...]) { port = p }
        }
        return (scheme, String(name), port)
    }

    /// This configuration with what the environment says where the configuration says nothing, as curl
    /// reads it: the proxy from `https_proxy`/`HTTPS_PROXY` (for an https host) or `http_proxy`/`HTTP_PROXY`
    /// (for an http host), then `all_proxy`/`ALL_PROXY`; `no_proxy`/`NO_PROXY`; and the CA file from
    /// `SSL_CERT_FILE`. Lower case wins where both are set. Empty values count as unset.
    public func applyingEnvironment(_ environment: [String: String]) -> SCIMConfiguration {
        func env(_ name: String) -> String? {
            for key in [name.lowercased(), name.uppercased()] {
                if let v = environment[key], !v.trimmedSpaces.isEmpty { return v.trimmedSpaces }
            }
            return nil
        }
        var c = self
        if c.proxy == nil {
            let specific = origin?.scheme == "https" ? env("https_proxy") : env("http_proxy")
            c.proxy = specific ?? env("all_proxy")
        }
        if c.noProxy == nil { c.noProxy = env("no_proxy") }
        if c.tls.caFile == nil, let file = environment["SSL_CERT_FILE"], !file.isEmpty { c.tls.caFile = file }
        return c
    }

    /// The proxy requests to ``host`` go through: ``proxy`` unless ``noProxy`` names the host. Throws when
    /// the proxy URL is malformed.
    public func effectiveProxy() throws(SCIMError) -> ProxySettings? {
        guard let text = proxy, !text.trimmedSpaces.isEmpty else { return nil }
        if let o = origin, NoProxyRules(noProxy).bypasses(host: o.host, port: o.port) { return nil }
        return try ProxySettings(parsing: text)
    }

    /// What a transport for this configuration needs: TLS, the proxy for this host, the pool's size.
    public func transportSettings() throws(SCIMError) -> TransportSettings {
        TransportSettings(tls: tls, proxy: try effectiveProxy(), maxConnectionsPerHost: maxConnections)
    }

    /// Why a request must not be sent as configured, or `nil`: a credential over plain http to another
    /// machine without ``allowHTTP``.
    public var refusal: String? {
        guard !allowHTTP, auth.secret != nil, let o = origin, o.scheme == "http", !IPAddress.isLoopback(o.host) else {
            return nil
        }
        return "refusing to send the token over plain http:// to \(o.host): anyone on the network path could read "
            + "it. Use https:// (ask the server's admins for its https address), or if this network is trusted, "
            + "allow it with --allow-http or set allow_http = on"
    }
}
