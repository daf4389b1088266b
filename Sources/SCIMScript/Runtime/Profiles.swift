import Foundation
import SCIMClient
import SCIMCore
import TOMLKit

/// A named server and how to reach it, from one `[NAME]` table of `profiles.toml`.
///
/// ```toml
/// [prod]
/// host = "https://odm.example.com"
/// ca_file = "/etc/ssl/corp-ca.pem"
/// proxy = "http://proxy.corp:3128"
/// token_command = "pass show odm/prod"
/// production = true
/// ```
///
/// A profile never holds a token: it says where one comes from (``Credential``). Choose one with `--profile NAME`,
/// `SCIMSH_PROFILE`, or `connect NAME`; load them with ``ProfileFile``.
public struct ConnectionProfile: Sendable, Hashable {
    /// Where the token comes from.
    public enum Credential: Sendable, Hashable {
        /// `token_env = "NAME"`: the value of an environment variable.
        case environment(String)
        /// `token_command = "…"`: the first line a program prints (see ``TokenCommand``).
        case command(TokenCommand)
        /// `token_keyring = true`: `secret-tool lookup service scimsh profile NAME`.
        case keyring
    }

    /// The profile's name (its table's name).
    public var name: String
    /// The server's origin, `https://odm.example.com` (session variable `host`).
    public var host: String
    /// The SCIM base path (`base_path`; default ODM's).
    public var basePath: String?
    /// `auto`, `odm` or `rfc` (`dialect`).
    public var dialect: String?
    /// PEM file of the certificate authorities to trust (`ca_file`).
    public var caFile: String?
    /// PEM client certificate for mutual TLS (`cert_file`).
    public var certFile: String?
    /// PEM private key of the client certificate (`key_file`).
    public var keyFile: String?
    /// Outbound proxy URL (`proxy`).
    public var proxy: String?
    /// Hosts reached without the proxy, comma-separated (`no_proxy`).
    public var noProxy: String?
    /// Turns off certificate and host name verification (`insecure`).
    public var insecure: Bool = false
    /// Allows sending a token over plain http to a host other than loopback (`allow_http`).
    public var allowHTTP: Bool = false
    /// Users per page (`page_size`).
    public var pageSize: Int?
    /// Parallel requests in write stages (`concurrency`).
    public var concurrency: Int?
    /// Seconds to wait for one request (`timeout`).
    public var timeout: Int?
    /// Seconds one whole statement may take, retries included (`statement_timeout`; 0: no limit).
    public var statementTimeout: Int?
    /// Where the token comes from; `nil`: `SCIMSH_TOKEN` / `SCIMSH_API_TOKEN` as without a profile.
    public var credential: Credential?
    /// A production server: shown in the prompt, and every change asks first (`confirm_above = 0`).
    public var production: Bool = false
    /// Where the profile was read, `FILE:LINE` (for messages).
    public var origin: String?

    /// A profile for `host` with nothing else set.
    public init(name: String, host: String) {
        self.name = name
        self.host = host
    }

    /// The keys a profile table may hold, with a one-line meaning (for errors, `help connect` and the docs).
    public static let keys: [(name: String, summary: String)] = [
        ("host", "the server's origin, https://odm.example.com (required)"),
        ("base_path", "the SCIM base path (default /api/v1/scim)"),
        ("dialect", "auto (the default), odm or rfc"),
        ("ca_file", "PEM file of the certificate authorities to trust (an internal CA)"),
        ("cert_file", "PEM client certificate, for mutual TLS"),
        ("key_file", "PEM private key of the client certificate"),
        ("proxy", "outbound proxy, http://proxy.corp:3128"),
        ("no_proxy", "hosts reached without the proxy, localhost,.corp"),
        ("insecure", "true: no certificate or host name verification (anyone on the path can read the token)"),
        ("allow_http", "true: allow sending the token over plain http to a host that is not loopback"),
        ("page_size", "users per page when listing (1-10000)"),
        ("concurrency", "parallel requests in write stages (1-256)"),
        ("timeout", "seconds to wait for one request (1-3600)"),
        ("statement_timeout", "seconds one whole statement may take, retries included (0: no limit)"),
        ("token_env", "the token is in this environment variable"),
        ("token_command", "the token is the first line this program prints (run without a shell)"),
        ("token_keyring", "true: secret-tool lookup service scimsh profile NAME"),
        ("production", "true: the prompt says so and every change asks first"),
    ]

    /// The session variables this profile sets, in a stable order (not the token: see ``ResolvedProfile``).
    public var sessionVariables: [(name: String, value: JSONValue)] {
        var out: [(String, JSONValue)] = [("host", .string(host)), ("profile", .string(name))]
        let strings: [(String, String?)] = [
            ("base_path", basePath), ("dialect", dialect), ("ca_file", caFile), ("cert_file", certFile),
            ("key_file", keyFile), ("proxy", proxy), ("no_proxy", noProxy),
        ]
        for (name, value) in strings { if let value { out.append((name, .string(value))) } }
        let numbers: [(String, Int?)] = [
            ("page_size", pageSize), ("concurrency", concurrency), ("timeout", timeout),
            ("statement_timeout", statementTimeout),
        ]
        for (name, value) in numbers { if let value { out.append((name, .number(Double(value)))) } }
        if insecure { out.append(("insecure", .string("on"))) }
        if allowHTTP { out.append(("allow_http", .string("on"))) }
        if production {
            out.append(("production", .string("on")))
            out.append(("confirm_above", .number(0)))
        }
        return out
    }

    /// Where the token comes from, for listings and messages (never the token).
    public var credentialSummary: String {
        switch credential {
        case .environment(let name): return "env \(name)"
        case .command(let command): return "command \(command.commandLine)"
        case .keyring: return "keyring"
        case nil: return "SCIMSH_TOKEN"
        }
    }

    /// What `--insecure` and `insecure = true` turn off, said on stderr whenever they are used.
    public static let insecureWarning =
        "warning: insecure: certificate and host name verification are off, so anyone on the network path can "
        + "read the token and change what the server answers; use ca_file (--cacert) to trust an internal CA instead"
}

/// A profile with its token fetched: ready to apply to a session with ``Session/connect(_:)``.
public struct ResolvedProfile: Sendable {
    /// The profile.
    public var profile: ConnectionProfile
    /// The token (a secret; sent as `Authorization: Bearer`), or `nil` when none was found.
    public var token: String?
    /// `SCIMSH_API_TOKEN`, sent as `Genestack-API-Token`, for a profile without a credential of its own.
    public var apiToken: String?
    /// The command that fetched the token, which a client may run again when the token expires.
    public var tokenCommand: TokenCommand?

    /// Fetches the profile's token: reads the environment variable, or runs the command or `secret-tool`.
    ///
    /// Without a credential in the profile, `SCIMSH_TOKEN` (else `SCIMSH_API_TOKEN`) is used, as without a profile.
    public init(_ profile: ConnectionProfile, environment: [String: String]) async throws(ProfileError) {
        self.profile = profile
        switch profile.credential {
        case .environment(let name):
            let value = String(
                (environment[name] ?? "").drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
            guard !value.isEmpty else {
                throw ProfileError.tokenVariableUnset(name, profile: profile)
            }
            token = value
        case .command(let command):
            tokenCommand = command
            token = try await ResolvedProfile.run(command, profile: profile)
        case .keyring:
            let command = TokenCommand.keyring(profile: profile.name)
            tokenCommand = command
            token = try await ResolvedProfile.run(command, profile: profile)
        case nil:
            token = environment["SCIMSH_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            apiToken = token == nil ? environment["SCIMSH_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 } : nil
        }
    }

    /// Reads the standard profiles file, finds profile `name` and fetches its token.
    public static func load(named name: String, environment: [String: String]) async throws(ProfileError)
        -> ResolvedProfile
    {
        let profile = try ProfileFile.load(environment: environment).profile(named: name)
        return try await ResolvedProfile(profile, environment: environment)
    }

    static func run(_ command: TokenCommand, profile: ConnectionProfile) async throws(ProfileError) -> String {
        do throws(TokenCommandError) {
            return try await command.run()
        } catch {
            if error.isCancelled { throw ProfileError.interrupted(profile) }
            if profile.credential == .keyring, error.isProgramMissing {
                throw ProfileError.keyringMissing(profile)
            }
            throw ProfileError.credential(error.message, profile: profile)
        }
    }

    /// One line for the person connecting: `connected to prod (https://…/api/v1/scim); token from command …`.
    public var summary: String {
        let p = profile
        var base = p.basePath ?? SCIMConfiguration.odmBasePath
        while base.hasSuffix("/") { base.removeLast() }
        var line = "connected to \(p.name) (\(p.host)\(base))"
        switch p.credential {
        case .environment(let name): line += "; token from $\(name)"
        case .command(let command): line += "; token from \(command.commandLine)"
        case .keyring: line += "; token from the keyring"
        case nil:
            line +=
                token != nil
                ? "; token from $SCIMSH_TOKEN" : apiToken != nil ? "; token from $SCIMSH_API_TOKEN" : "; no token"
        }
        if p.production { line += "; PRODUCTION: every change asks first" }
        return line
    }
}

extension Session {
    /// The variables a connection profile owns: ``connect(_:)`` clears them all before setting the new profile's.
    public static let connectionVariables = [
        "host", "base_path", "dialect", "ca_file", "cert_file", "key_file", "proxy", "no_proxy", "insecure",
        "allow_http", "token", "api_token", "token_command", "profile", "production",
    ]

    /// Replaces the connection settings with a profile's: clears ``connectionVariables`` (and `confirm_above`
    /// when leaving a production profile), then sets the profile's variables, its token and `token_command`.
    public mutating func connect(_ resolved: ResolvedProfile) {
        if string("production") == "on" { unset("confirm_above") }
        for name in Session.connectionVariables { unset(name) }
        for (name, value) in resolved.profile.sessionVariables { set(name, value) }
        if let token = resolved.token { set("token", .string(token)) }
        if let apiToken = resolved.apiToken { set("api_token", .string(apiToken)) }
        if let command = resolved.tokenCommand { set("token_command", .string(command.commandLine)) }
    }
}

/// The connection profiles of one `profiles.toml`.
public struct ProfileFile: Sendable {
    /// The file's path.
    public var path: String
    /// The profiles, by name.
    public var profiles: [ConnectionProfile]

    /// `$XDG_CONFIG_HOME/scimsh/profiles.toml`, else `~/.config/scimsh/profiles.toml`; `nil` without either
    /// variable.
    public static func standardPath(environment: [String: String]) -> String? {
        if let x = environment["XDG_CONFIG_HOME"], x.hasPrefix("/") { return x + "/scimsh/profiles.toml" }
        if let h = environment["HOME"], !h.isEmpty { return h + "/.config/scimsh/profiles.toml" }
        return nil
    }

    /// Reads and checks the standard file.
    public static func load(environment: [String: String]) throws(ProfileError) -> ProfileFile {
        guard let path = standardPath(environment: environment) else { throw ProfileError.noConfigHome() }
        return try load(path: path, environment: environment)
    }

    /// Reads and checks a profiles file; `~/` in file names is the home folder of `environment`.
    public static func load(path: String, environment: [String: String]) throws(ProfileError) -> ProfileFile {
        guard FileManager.default.fileExists(atPath: path) else { throw ProfileError.missingFile(path) }
        let text: String
        do {
            text = try FileText.read(path, maxBytes: 1 << 20)
        } catch {
            throw ProfileError.unreadable(path, reason: error.message)
        }
        return try ProfileFile(parsing: text, path: path, home: environment["HOME"])
    }

    /// Checks profiles given as TOML text (`path` is for messages).
    public init(parsing text: String, path: String, home: String? = nil) throws(ProfileError) {
        self.path = path
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ProfileError.syntax(
                path, line: error.source.begin.line, column: error.source.begin.column, error.description)
        } catch {
            throw ProfileError.syntax(path, line: nil, column: nil, "\(error)")
        }
        let lines = ProfileSourceLines(text)
        var profiles: [ConnectionProfile] = []
        for (name, value) in table {
            guard let body = value.table else {
                throw ProfileError.outsideTable(path, line: lines.line(ofKey: name, inTable: nil), key: name)
            }
            let reader = ProfileTableReader(
                path: path, name: name, table: body, lines: lines, home: home)
            profiles.append(try reader.read())
        }
        self.profiles = profiles.sorted { $0.name < $1.name }
    }

    /// The profile called `name`; an error listing the names there are otherwise.
    public func profile(named name: String) throws(ProfileError) -> ConnectionProfile {
        if let p = profiles.first(where: { $0.name == name }) { return p }
        throw ProfileError.unknownProfile(name, path: path, known: profiles.map(\.name))
    }
}

/// Reads one `[NAME]` table into a profile, checking every key.
struct ProfileTableReader {
    let path: String
    let name: String
    let table: TOMLTable
    let lines: ProfileSourceLines
    let home: String?

    func error(_ key: String, _ message: String) -> ProfileError {
        ProfileError.invalidKey(path, line: lines.line(ofKey: key, inTable: name), profile: name, key: key, message)
    }

    func string(_ key: String, _ value: any TOMLValueConvertible) throws(ProfileError) -> String {
        guard let s = value.string else { throw error(key, "\(key) must be a string in quotes (got \(value.type))") }
        guard !s.isEmpty else { throw error(key, "\(key) is empty: give a value or remove the line") }
        return s
    }

    func path(_ key: String, _ value: any TOMLValueConvertible) throws(ProfileError) -> String {
        let s = try string(key, value)
        if s.hasPrefix("~/"), let home { return home + s.dropFirst(1) }
        return s
    }

    func bool(_ key: String, _ value: any TOMLValueConvertible) throws(ProfileError) -> Bool {
        guard let b = value.bool else { throw error(key, "\(key) must be true or false (got \(value.type))") }
        return b
    }

    func int(_ key: String, _ value: any TOMLValueConvertible, _ range: ClosedRange<Int>) throws(ProfileError) -> Int {
        guard let n = value.int, range.contains(n) else {
            throw error(
                key,
                "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)"
                    + (value.int == nil ? " (got \(value.type))" : " (got \(value.int ?? 0))"))
        }
        return n
    }

    func read() throws(ProfileError) -> ConnectionProfile {
        var profile = ConnectionProfile(name: name, host: "")
        profile.origin = lines.line(ofTable: name).map { "\(path):\($0)" } ?? path
        var credentials: [String] = []
        for (key, value) in table {
            switch key {
            case "host":
                let h = try string(key, value)
                guard h.hasPrefix("https://") || h.hasPrefix("http://") else {
                    throw error(key, "host must start with https:// or http:// (got '\(h)')")
                }
                profile.host = h
            case "base_path":
                let p = try string(key, value)
                guard p.hasPrefix("/") else { throw error(key, "base_path must start with / (got '\(p)')") }
                profile.basePath = p
            case "dialect":
                let d = try string(key, value).lowercased()
                guard ["auto", "odm", "rfc"].contains(d) else {
                    throw error(key, "dialect must be auto, odm or rfc (got '\(d)')")
                }
                profile.dialect = d
            case "ca_file": profile.caFile = try path(key, value)
            case "cert_file": profile.certFile = try path(key, value)
            case "key_file": profile.keyFile = try path(key, value)
            case "proxy": profile.proxy = try string(key, value)
            case "no_proxy": profile.noProxy = try string(key, value)
            case "insecure": profile.insecure = try bool(key, value)
            case "allow_http": profile.allowHTTP = try bool(key, value)
            case "page_size": profile.pageSize = try int(key, value, 1...10_000)
            case "concurrency": profile.concurrency = try int(key, value, 1...256)
            case "timeout": profile.timeout = try int(key, value, 1...3600)
            case "statement_timeout": profile.statementTimeout = try int(key, value, 0...31_536_000)
            case "production": profile.production = try bool(key, value)
            case "token_env":
                let v = try string(key, value)
                guard v.isEnvironmentName else {
                    throw error(key, "token_env must name an environment variable, such as ODM_TOKEN (got '\(v)')")
                }
                profile.credential = .environment(v)
                credentials.append(key)
            case "token_command":
                let line = try string(key, value)
                do throws(TokenCommandError) {
                    profile.credential = .command(try TokenCommand(parsing: line))
                } catch let e {
                    throw error(key, e.message)
                }
                credentials.append(key)
            case "token_keyring":
                if try bool(key, value) {
                    profile.credential = .keyring
                    credentials.append(key)
                }
            case let k where ProfileError.secretKeys.contains(k.lowercased()):
                throw ProfileError.tokenInFile(
                    path, line: lines.line(ofKey: key, inTable: name), profile: name, key: key)
            default:
                throw ProfileError.unknownKey(
                    path, line: lines.line(ofKey: key, inTable: name), profile: name, key: key)
            }
        }
        if credentials.count > 1 {
            throw error(
                credentials[1],
                "give one of token_env, token_command and token_keyring, not \(credentials.joined(separator: " and "))")
        }
        guard !profile.host.isEmpty else {
            throw ProfileError.missingHost(path, line: lines.line(ofTable: name), profile: name)
        }
        return profile
    }
}

/// Finds the line of a table header or a key in TOML text, for messages (TOMLKit keeps no positions).
struct ProfileSourceLines {
    /// Each line, trimmed, with its 1-based number.
    let lines: [String]

    init(_ text: String) {
        // "\r\n" is one Character in Swift, so both line ends are named.
        lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map {
            String($0).trimmedSpaces
        }
    }

    /// The header's name if `line` is a `[table]` header (quotes removed; a comment after it ignored), else `nil`.
    static func header(_ line: String) -> String? {
        guard line.hasPrefix("["), !line.hasPrefix("[[") else { return nil }
        let inside = String(line.dropFirst()).trimmedSpaces
        if let quote = inside.first, quote == "\"" || quote == "'" {
            let rest = inside.dropFirst()
            return rest.firstIndex(of: quote).map { String(rest[..<$0]) }
        }
        return inside.firstIndex(of: "]").map { String(inside[..<$0]).trimmedSpaces }
    }

    /// The line of `[table]`.
    func line(ofTable table: String) -> Int? {
        lines.firstIndex { ProfileSourceLines.header($0) == table }.map { $0 + 1 }
    }

    /// The line where `key = …` is set in `[table]` (`nil`: before any table).
    func line(ofKey key: String, inTable table: String?) -> Int? {
        var current: String? = nil
        for (i, line) in lines.enumerated() {
            if let h = ProfileSourceLines.header(line) {
                current = h
                if table == nil, h == key { return i + 1 }
                continue
            }
            guard current == table else { continue }
            for written in [key, "\"\(key)\"", "'\(key)'"] where line.hasPrefix(written) {
                let rest = String(line.dropFirst(written.count)).trimmedSpaces
                if rest.hasPrefix("=") { return i + 1 }
            }
        }
        return nil
    }
}

/// A problem with connection profiles: the file, a key in it, or fetching the token. The message says what, where
/// (`FILE:LINE`) and what to do, and never holds a token.
public struct ProfileError: Error, Sendable, CustomStringConvertible {
    enum Code: Sendable {
        case noConfigHome, missingFile, unreadable, syntax, outsideTable, unknownKey, invalidKey, tokenInFile,
            missingHost
        case unknownProfile, tokenVariableUnset, credential, keyringMissing, interrupted, notInInterpreter
    }

    let code: Code
    /// What went wrong, where, and what to do.
    public let message: String
    /// The profiles file, when the problem is in it.
    public let path: String?
    /// The line in it, when known.
    public let line: Int?
    /// The key, when one is at fault.
    public let key: String?

    init(_ code: Code, _ message: String, path: String? = nil, line: Int? = nil, key: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.line = line
        self.key = key
    }

    public var description: String { message }

    /// Whether the problem is the file or a profile in it (a usage error) rather than fetching the token.
    public var isConfigurationError: Bool {
        switch code {
        case .tokenVariableUnset, .credential, .keyringMissing, .interrupted: return false
        default: return true
        }
    }

    /// Whether fetching the token was interrupted (Ctrl-C).
    public var isInterrupted: Bool { code == .interrupted }

    /// Keys refused because they would put a secret in the file.
    static let secretKeys: Set<String> = ["token", "api_token", "password", "secret", "bearer"]

    static func place(_ path: String, _ line: Int?) -> String { line.map { "\(path):\($0)" } ?? path }

    static func noConfigHome() -> Self {
        Self(
            .noConfigHome,
            "no profiles file: neither XDG_CONFIG_HOME nor HOME is set, so scimsh cannot find "
                + "scimsh/profiles.toml; set HOME (or XDG_CONFIG_HOME)")
    }

    /// Whether there is no profiles file (or no folder to look for one in).
    public var isMissingFile: Bool { code == .missingFile || code == .noConfigHome }

    static func missingFile(_ path: String) -> Self {
        Self(
            .missingFile,
            "no profiles file at \(path): create it with one [NAME] table per server, e.g. [prod] and "
                + "host = \"https://odm.example.com\" (see 'help connect')", path: path)
    }

    static func unreadable(_ path: String, reason: String) -> Self {
        Self(.unreadable, "\(path): cannot read the profiles file: \(reason) (check its permissions)", path: path)
    }

    static func syntax(_ path: String, line: Int?, column: Int?, _ detail: String) -> Self {
        let at = line.map { l in column.map { "\(path):\(l):\($0)" } ?? "\(path):\(l)" } ?? path
        return Self(.syntax, "\(at): not valid TOML: \(detail)", path: path, line: line)
    }

    static func outsideTable(_ path: String, line: Int?, key: String) -> Self {
        Self(
            .outsideTable,
            "\(place(path, line)): '\(key)' is outside any profile: put it under a [NAME] table header, "
                + "e.g. [prod]", path: path, line: line, key: key)
    }

    static func unknownKey(_ path: String, line: Int?, profile: String, key: String) -> Self {
        let names = ConnectionProfile.keys.map(\.name)
        var message = "\(place(path, line)): profile '\(profile)': unknown key '\(key)'"
        if let near = Suggest.closest(to: key, among: names) {
            message += " (did you mean '\(near)'?)"
        } else {
            message += "; the keys are " + names.joined(separator: ", ")
        }
        return Self(.unknownKey, message, path: path, line: line, key: key)
    }

    static func invalidKey(_ path: String, line: Int?, profile: String, key: String, _ detail: String) -> Self {
        Self(.invalidKey, "\(place(path, line)): profile '\(profile)': \(detail)", path: path, line: line, key: key)
    }

    static func tokenInFile(_ path: String, line: Int?, profile: String, key: String) -> Self {
        Self(
            .tokenInFile,
            "\(place(path, line)): profile '\(profile)': '\(key)' is refused: scimsh never reads a token from a "
                + "plain-text file; remove the line (and change that token), then say where the token comes from "
                + "with token_env = \"ODM_TOKEN\", token_command = \"pass show odm/\(profile)\" or token_keyring = true",
            path: path, line: line, key: key)
    }

    static func missingHost(_ path: String, line: Int?, profile: String) -> Self {
        Self(
            .missingHost,
            "\(place(path, line)): profile '\(profile)' has no host: add host = \"https://odm.example.com\"",
            path: path, line: line, key: "host")
    }

    static func unknownProfile(_ name: String, path: String, known: [String]) -> Self {
        var message = "no profile '\(name)' in \(path)"
        if let near = Suggest.closest(to: name, among: known) {
            message += " (did you mean '\(near)'?)"
        } else if known.isEmpty {
            message += " (it has none yet: add a [\(name)] table with a host)"
        } else {
            message += " (it has: \(known.joined(separator: ", ")))"
        }
        return Self(.unknownProfile, message, path: path)
    }

    static func tokenVariableUnset(_ variable: String, profile: ConnectionProfile) -> Self {
        Self(
            .tokenVariableUnset,
            "profile '\(profile.name)': token_env names \(variable), which is not set or empty; export it first "
                + "(export \(variable)=…), or use token_command or token_keyring in \(profile.origin ?? "the profile")",
            key: "token_env")
    }

    static func credential(_ detail: String, profile: ConnectionProfile) -> Self {
        Self(.credential, "profile '\(profile.name)': \(detail)", key: "token_command")
    }

    static func keyringMissing(_ profile: ConnectionProfile) -> Self {
        Self(
            .keyringMissing,
            "profile '\(profile.name)': token_keyring needs secret-tool, which is not installed (Debian: "
                + "apt-get install libsecret-tools; store the token with: secret-tool store --label=scimsh "
                + "service scimsh profile \(profile.name))", key: "token_keyring")
    }

    static func notInInterpreter() -> Self {
        Self(.notInInterpreter, "connect can only run in an interpreter's session")
    }

    static func interrupted(_ profile: ConnectionProfile) -> Self {
        Self(.interrupted, "profile '\(profile.name)': fetching the token was interrupted")
    }
}

extension String {
    /// Whether this is a usable environment variable name: letters, digits and `_`, not starting with a digit.
    var isEnvironmentName: Bool {
        guard let first = unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
        }
    }
}
