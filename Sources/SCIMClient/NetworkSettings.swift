import SCIMCore

/// How the client checks the server's certificate and proves its own identity over HTTPS.
///
/// The default verifies the server's certificate chain against the system's trust store and its host name
/// against the URL, as curl and every browser do.
public struct TLSSettings: Sendable, Hashable {
    /// A PEM file of the certificate authorities to trust instead of the system's store (`--cacert`,
    /// `ca_file`, `SSL_CERT_FILE`): a company's internal CA.
    public var caFile: String?
    /// A PEM client certificate (chain) for servers that require one (mutual TLS).
    public var certFile: String?
    /// The PEM private key of ``certFile``.
    public var keyFile: String?
    /// Turns off certificate and host name verification. Anyone on the path can then read the token.
    public var insecure: Bool

    /// Settings; the defaults verify against the system's trust store.
    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, insecure: Bool = false) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.insecure = insecure
    }
}

/// An HTTP proxy (or SOCKS5 proxy) the client connects through, parsed from a URL such as
/// `http://user:pass@proxy.corp:3128`.
///
/// HTTPS requests go through it with `CONNECT`, so the proxy sees the host name but not the traffic. Its
/// ``description`` masks the password, so it can be shown in traces.
public struct ProxySettings: Sendable, Hashable, CustomStringConvertible {
    /// The kind of proxy.
    public enum Kind: String, Sendable, Hashable {
        /// An HTTP proxy (`http://`): `CONNECT` tunnels.
        case http
        /// A SOCKS5 proxy (`socks5://`, `socks5h://`).
        case socks5
    }

    /// The kind of proxy.
    public var kind: Kind
    /// The proxy's host name or address.
    public var host: String
    /// The proxy's port (1080 when the URL gives none, as curl does).
    public var port: Int
    /// The user name for the proxy's Basic authentication, if any.
    public var username: String?
    /// The password for the proxy's Basic authentication, if any. A secret.
    public var password: String?

    /// Parses a proxy URL: `[http://|socks5://|socks5h://][user[:password]@]host[:port][/]`. A URL without a
    /// scheme is an HTTP proxy, as curl takes it. User and password may be percent-encoded.
    public init(parsing text: String) throws(SCIMError) {
        var rest = Substring(text.trimmedSpaces)
        func bad(_ why: String) -> SCIMError {
            .invalidRequest(
                "invalid proxy URL '\(ProxySettings.masking(text))': \(why) (expected http://[user:password@]host:port)",
                method: "-", url: "-")
        }
        kind = .http
        if let r = rest.firstRange(of: "://") {
            let scheme = rest[..<r.lowerBound].lowercased()
            switch scheme {
            case "http": kind = .http
            case "socks5", "socks5h": kind = .socks5
            case "https": throw bad("a proxy reached over https is not supported; use http:// (CONNECT still encrypts)")
            default: throw bad("unsupported scheme '\(scheme)'")
            }
            rest = rest[r.upperBound...]
        }
        while rest.hasSuffix("/") { rest.removeLast() }
        if rest.contains("/") || rest.contains("?") || rest.contains("#") { throw bad("a proxy URL has no path") }
        username = nil
        password = nil
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                username = ProxySettings.percentDecoded(credentials[..<colon])
                password = ProxySettings.percentDecoded(credentials[credentials.index(after: colon)...])
            } else {
                username = ProxySettings.percentDecoded(credentials)
            }
            if kind == .socks5 { throw bad("credentials for a SOCKS proxy are not supported") }
        }
        var hostPart = rest
        var portNumber = 1080
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw bad("unclosed '[' in an IPv6 address") }
            let after = hostPart[hostPart.index(after: close)...]
            let inner = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw bad("invalid port") }
                portNumber = p
            } else if !after.isEmpty {
                throw bad("unexpected text after the address")
            }
            hostPart = inner
        } else if let colon = hostPart.lastIndex(of: ":") {
            guard let p = Int(hostPart[hostPart.index(after: colon)...]), (1...65535).contains(p) else {
                throw bad("invalid port")
            }
            portNumber = p
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else { throw bad("no host") }
        guard hostPart.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "@" }) else {
            throw bad("invalid host name")
        }
        host = String(hostPart)
        port = portNumber
    }

    /// The proxy as a URL with its password masked: `http://user:****@proxy:3128`.
    public var description: String {
        var s = kind == .http ? "http://" : "socks5://"
        if let username {
            s += username
            if password != nil { s += ":****" }
            s += "@"
        }
        s += host.contains(":") ? "[\(host)]" : host
        return s + ":\(port)"
    }

    /// A proxy URL as typed, with any password masked (for error messages).
    public static func masking(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        let head = url[..<at]
        let start = head.firstRange(of: "://")?.upperBound ?? head.startIndex
        guard let colon = head[start...].firstIndex(of: ":") else { return url }
        return String(url[...colon]) + "****" + String(url[at...])
    }

    /// Percent-decodes text; a `%` without two hex digits after it stays as it is.
    public static func percentDecoded(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2,
                let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The hosts that are reached directly, not through the proxy: `NO_PROXY` with curl's rules.
///
/// A comma- or space-separated list. `*` alone bypasses the proxy for every host. A name matches itself and
/// every subdomain (`example.com` and `.example.com` both match `example.com` and `api.example.com`). An IP
/// address matches itself; `10.0.0.0/8` or `fd00::/8` match a range (CIDR, as curl 7.86 and later do). An entry
/// with a port (`example.com:8443`) matches only that port. Names are compared without case.
public struct NoProxyRules: Sendable, Hashable {
    struct Entry: Sendable, Hashable {
        var name: String
        var port: Int?
        var cidr: (bytes: [UInt8], bits: Int)?

        static func == (a: Entry, b: Entry) -> Bool { a.name == b.name && a.port == b.port }
        func hash(into h: inout Hasher) {
            h.combine(name)
            h.combine(port)
        }
    }

    var entries: [Entry] = []
    var everything = false

    /// The rules of a `NO_PROXY` value (`nil` or empty: none).
    public init(_ text: String?) {
        guard let text else { return }
        for raw in text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            var item = raw.lowercased()
            if item == "*" {
                everything = true
                continue
            }
            var port: Int?
            if item.hasPrefix("[") {
                if let close = item.firstIndex(of: "]") {
                    let after = item[item.index(after: close)...]
                    if after.hasPrefix(":") { port = Int(after.dropFirst()) }
                    item = String(item[item.index(after: item.startIndex)..<close])
                }
            } else if item.filter({ $0 == ":" }).count == 1, let colon = item.firstIndex(of: ":"),
                let p = Int(item[item.index(after: colon)...])
            {
                port = p
                item = String(item[..<colon])
            }
            while item.hasPrefix(".") { item.removeFirst() }
            while item.hasSuffix(".") { item.removeLast() }
            guard !item.isEmpty else { continue }
            var entry = Entry(name: item, port: port, cidr: nil)
            if let slash = item.firstIndex(of: "/"), let bits = Int(item[item.index(after: slash)...]),
                let address = IPAddress.bytes(String(item[..<slash])), bits >= 0, bits <= address.count * 8
            {
                entry.cidr = (address, bits)
            }
            entries.append(entry)
        }
    }

    /// Whether a request to `host` on `port` goes directly.
    public func bypasses(host rawHost: String, port: Int) -> Bool {
        if everything { return true }
        var host = rawHost.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        while host.hasSuffix(".") { host.removeLast() }
        let address = IPAddress.bytes(host)
        for e in entries {
            if let p = e.port, p != port { continue }
            if let cidr = e.cidr {
                if let address, address.count == cidr.bytes.count,
                    IPAddress.prefixMatches(address, cidr.bytes, bits: cidr.bits)
                {
                    return true
                }
                continue
            }
            if address != nil {
                if IPAddress.bytes(e.name) == address { return true }
                continue
            }
            if host == e.name || host.hasSuffix("." + e.name) { return true }
        }
        return false
    }
}

/// IPv4 and IPv6 address text as bytes, for `NO_PROXY` ranges and the loopback check.
enum IPAddress {
    /// The bytes of a dotted IPv4 or a colon-separated IPv6 address, or `nil` for a host name.
    static func bytes(_ text: String) -> [UInt8]? {
        if text.contains(":") { return ipv6(text) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let v = UInt8(p) else {
                return nil
            }
            out.append(v)
        }
        return out
    }

    static func ipv6(_ text: String) -> [UInt8]? {
        var halves = [Substring(text)]
        if let gap = text.firstRange(of: "::") {
            halves = [text[..<gap.lowerBound], text[gap.upperBound...]]
            if halves[1].contains("::") { return nil }
        }
        func groups(_ s: Substring) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    static func prefixMatches(_ a: [UInt8], _ b: [UInt8], bits: Int) -> Bool {
        var left = bits
        for i in 0..<a.count where left > 0 {
            let n = min(8, left)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - n))
            if a[i] & mask != b[i] & mask { return false }
            left -= n
        }
        return true
    }

    /// Whether a URL host is this machine: `localhost`, 127.0.0.0/8 or `::1`.
    static func isLoopback(_ rawHost: String) -> Bool {
        var host = rawHost.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        guard let b = bytes(host) else { return false }
        if b.count == 4 { return b[0] == 127 }
        return b == [UInt8](repeating: 0, count: 15) + [1]
    }
}

/// What a transport needs to know about the network: TLS, the proxy, and the size of its connection pool.
/// Clients with equal settings can share one transport.
public struct TransportSettings: Sendable, Hashable {
    /// Certificate checks and the client certificate.
    public var tls: TLSSettings
    /// The proxy to use, or `nil` to connect directly.
    public var proxy: ProxySettings?
    /// The most connections kept to one host.
    public var maxConnectionsPerHost: Int
    /// How long an unused pooled connection stays open.
    public var idleTimeout: Duration
    /// The largest response body accepted (after decompression).
    public var maxBodyBytes: Int

    /// Settings; the defaults verify TLS against the system's store, use no proxy, and keep up to 64
    /// connections per host, each closed after 60 s unused.
    public init(
        tls: TLSSettings = TLSSettings(), proxy: ProxySettings? = nil, maxConnectionsPerHost: Int = 64,
        idleTimeout: Duration = .seconds(60), maxBodyBytes: Int = 64 << 20
    ) {
        self.tls = tls
        self.proxy = proxy
        self.maxConnectionsPerHost = max(1, maxConnectionsPerHost)
        self.idleTimeout = idleTimeout
        self.maxBodyBytes = maxBodyBytes
    }
}
