import SCIMClient
import SCIMCore

/// The variables of one interpreter session, with the meaning scimsh gives to some of them.
///
/// `token` and `api_token` are secrets: ``masked(_:)`` shows them as `****`, and the interpreter never prints
/// them, not in `vars`, `echo`, errors nor traces.
public struct Session: Sendable {
    /// Variables by name (names are case-sensitive).
    public private(set) var variables: [String: JSONValue] = [:]
    /// Record lists bound with `let`.
    public private(set) var recordLists: [String: [Record]] = [:]

    /// The names whose values are secrets.
    public static let secretNames: Set<String> = ["token", "api_token"]

    /// Variables scimsh gives meaning to, with their defaults and a one-line description.
    public static let knownVariables: [(name: String, defaultValue: JSONValue?, summary: String)] = [
        ("host", nil, "the server's origin, e.g. https://odm.example.com"),
        ("base_path", .string(SCIMConfiguration.odmBasePath), "the SCIM base path (ODM: /api/v1/scim)"),
        ("token", nil, "sent as Authorization: Bearer (secret)"),
        ("api_token", nil, "sent as Genestack-API-Token (secret)"),
        ("page_size", .number(100), "users per page when listing"),
        ("concurrency", .number(8), "parallel requests in mutating stages"),
        ("output", .string("table"), "table, json, jsonl, csv or show"),
        ("on_error", nil, "stop (default in scripts) or continue (default at the prompt)"),
        ("timeout", .number(30), "seconds one attempt of one request may take (retries get their own)"),
        ("statement_timeout", .number(0), "seconds one whole statement may take, retries included (0: no limit)"),
        ("trace", .string("off"), "on: print every HTTP exchange; curl: print requests as curl commands"),
        ("dry_run", .string("off"), "on: mutating stages print their plan and send no write"),
        (
            "dialect", .string("auto"),
            "auto (ODM when the server has no discovery and base_path is /api/v1/scim, else rfc), odm or rfc"
        ),
        ("confirm_above", .number(1), "at the prompt, ask before changing more users than this"),
        ("confirm_delete", .string("on"), "on: under dialect rfc, delete asks at the prompt, needs --force in scripts"),
        ("ca_file", nil, "PEM file of the CAs to trust for https (default: the system's; or $SSL_CERT_FILE)"),
        ("cert_file", nil, "PEM client certificate for servers that require one (mutual TLS)"),
        ("key_file", nil, "PEM private key of cert_file"),
        ("insecure", nil, "on: do not verify the server's certificate (anyone on the path can read the token)"),
        ("proxy", nil, "http://[user:password@]host:port (default: $HTTPS_PROXY / $HTTP_PROXY)"),
        ("no_proxy", nil, "hosts reached without the proxy, curl's rules (default: $NO_PROXY)"),
        ("allow_http", nil, "on: allow sending the token over plain http:// to another machine"),
        ("token_command", nil, "a command whose output is the token, run again when the server answers 401"),
        ("profile", nil, "the connection profile in use (connect NAME, --profile)"),
        ("production", nil, "on when the profile is marked production: every change asks first"),
    ]

    /// An empty session (defaults apply through ``value(_:)``).
    public init() {}

    /// The value of a variable, or its default.
    public func value(_ name: String) -> JSONValue? {
        if let v = variables[name] { return v }
        return Session.knownVariables.first { $0.name == name }?.defaultValue
    }

    /// Sets a variable.
    public mutating func set(_ name: String, _ value: JSONValue) {
        variables[name] = value
    }

    /// Removes a variable (and a record list of that name).
    public mutating func unset(_ name: String) {
        variables[name] = nil
        recordLists[name] = nil
    }

    /// Binds a record list (from `let`).
    public mutating func bind(_ name: String, records: [Record]) {
        recordLists[name] = records
        variables[name] = nil
    }

    /// Whether a name holds a secret.
    public static func isSecret(_ name: String) -> Bool { secretNames.contains(name.lowercased()) }

    /// A variable's value for display: secrets as `****`.
    public func masked(_ name: String) -> String {
        guard let v = value(name) else { return "" }
        if Session.isSecret(name) { return "****" }
        if name == "proxy" { return ProxySettings.masking(v.displayString) }
        return v.displayString
    }

    /// Every secret value currently set, for scrubbing text.
    public var secretValues: [String] {
        var values = Session.secretNames.compactMap { variables[$0]?.displayString }
        // A proxy's password (in its URL) is a secret too.
        if let proxy = variables["proxy"]?.displayString, let password = (try? ProxySettings(parsing: proxy))?.password
        {
            values.append(password)
        }
        return values.filter { $0.count >= 4 }
    }

    /// A mask for the secrets set now (build it once where many texts are masked).
    public var secretMask: SecretMask { SecretMask(secretValues) }

    /// Replaces every secret value in `text` with `****`.
    public func scrub(_ text: String) -> String {
        secretMask.apply(text)
    }

    /// What to do about an error, when scimsh can tell: for a 401 with no token set, how to set one.
    public func hint(for error: SCIMError) -> String? {
        guard error.status == 401 else { return nil }
        switch clientConfiguration()?.auth ?? SCIMAuth.none {
        case .none:
            return "hint: no token is set; give one with `set token = …` or the environment variable SCIMSH_TOKEN "
                + "(`set api_token = …` or SCIMSH_API_TOKEN for a Genestack-API-Token)"
        case .bearer, .apiToken:
            return "hint: the server refused the token; check it (`set token = …`, SCIMSH_TOKEN)"
        }
    }

    /// An integer setting, clamped to a range, or its default.
    public func int(_ name: String, default d: Int, range: ClosedRange<Int>) -> Int {
        guard let v = value(name) else { return d }
        let n: Double?
        switch v {
        case .number(let x): n = x
        case .string(let s): n = Double(s)
        default: n = nil
        }
        guard let n, n.isFinite else { return d }
        return min(max(Int(n.rounded()), range.lowerBound), range.upperBound)
    }

    /// A string setting.
    public func string(_ name: String) -> String? {
        guard let v = value(name), !v.isNull else { return nil }
        return v.displayString
    }

    /// The client configuration these variables describe, or `nil` when `host` is not set.
    public func clientConfiguration() -> SCIMConfiguration? {
        guard let host = string("host"), !host.isEmpty else { return nil }
        var auth = SCIMAuth.none
        if let t = string("token"), !t.isEmpty {
            auth = .bearer(t)
        } else if let t = string("api_token"), !t.isEmpty {
            auth = .apiToken(t)
        }
        let timeout = int("timeout", default: 30, range: 1...3600)
        let concurrency = int("concurrency", default: 8, range: 1...256)
        let tls = TLSSettings(
            caFile: nonEmpty("ca_file"), certFile: nonEmpty("cert_file"), keyFile: nonEmpty("key_file"),
            insecure: flag("insecure"))
        return SCIMConfiguration(
            host: host, basePath: string("base_path") ?? SCIMConfiguration.odmBasePath, auth: auth,
            timeout: .seconds(timeout), maxConnections: max(concurrency, 8), tls: tls, proxy: nonEmpty("proxy"),
            noProxy: string("no_proxy"), allowHTTP: flag("allow_http"), tokenCommand: nonEmpty("token_command"))
    }

    /// A string setting that is set and not empty.
    func nonEmpty(_ name: String) -> String? {
        guard let s = string(name), !s.isEmpty else { return nil }
        return s
    }

    /// An on/off setting: `on`, `true`, `yes` or `1` (any case) is on; anything else, or unset, is off.
    public func flag(_ name: String) -> Bool {
        guard let v = value(name) else { return false }
        if case .bool(let b) = v { return b }
        return ["on", "true", "yes", "1"].contains(v.displayString.lowercased())
    }
}
