import SCIMClient
import SCIMCore

/// How `set trace` shows HTTP exchanges.
public enum TraceMode: String, Sendable, CaseIterable {
    /// No tracing.
    case off
    /// Every request and response on stderr, secrets masked, long bodies abbreviated.
    case on
    /// Every request as a ready-to-run curl command reading the token from `$SCIMSH_TOKEN`.
    case curl
}

/// Prints HTTP exchanges to the message stream as they happen (for `set trace = on|curl`).
public final class TraceObserver: HTTPExchangeObserver {
    let mode: TraceMode
    let sink: any OutputSink
    let mask: SecretMask
    /// Bodies longer than this are abbreviated.
    public let maxBody: Int

    /// An observer writing to `sink`; `secrets` are scrubbed from everything it prints.
    public init(mode: TraceMode, sink: any OutputSink, secrets: [String], maxBody: Int = 2000) {
        self.mode = mode
        self.sink = sink
        self.mask = SecretMask(secrets)
        self.maxBody = maxBody
    }

    func scrub(_ s: String) -> String { mask.apply(s) }

    func body(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "" }
        var text: String
        if let json = try? JSONParser.parse(bytes) {
            text = JSONEncoderFast.pretty(json)
        } else {
            text = String(decoding: bytes, as: UTF8.self)
        }
        if text.utf8.count > maxBody {
            text = String(text.prefix(maxBody)) + "\n… (\(bytes.count) bytes in all)"
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
            + "\n"
    }

    public func willSend(_ request: HTTPRequestData, attempt: Int) {
        switch mode {
        case .off: return
        case .curl:
            sink.writeMessage(scrub(TraceObserver.curlCommand(request)) + "\n")
        case .on:
            var s = "> \(request.method) \(request.url)\(attempt > 1 ? "   (attempt \(attempt))" : "")\n"
            if let proxy = request.proxy { s += "* via proxy \(proxy)\n" }
            for h in request.maskedHeaders { s += "> \(h.name): \(h.value)\n" }
            if let b = request.body { s += body(b) }
            sink.writeMessage(scrub(s))
        }
    }

    public func didReceive(_ response: HTTPResponseData, for request: HTTPRequestData, duration: Duration) {
        guard mode == .on else { return }
        var s = "< \(response.status) \(HTTPStatusText.reason(response.status)) (\(TraceObserver.ms(duration)) ms)\n"
        for h in response.headers where ["content-type", "retry-after", "location"].contains(h.name.lowercased()) {
            s += "< \(h.name): \(h.value)\n"
        }
        s += body(response.body)
        sink.writeMessage(scrub(s))
    }

    public func didFail(_ reason: String, for request: HTTPRequestData, duration: Duration) {
        guard mode == .on else { return }
        sink.writeMessage(scrub("< failed after \(TraceObserver.ms(duration)) ms: \(reason)\n"))
    }

    static func ms(_ d: Duration) -> Int {
        Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
    }

    /// The request as a curl command; credentials come from `$SCIMSH_TOKEN` / `$SCIMSH_API_TOKEN`.
    public static func curlCommand(_ r: HTTPRequestData) -> String {
        func sq(_ s: String) -> String { "'" + s.replacingEvery("'", with: "'\\''") + "'" }
        var parts = ["curl -sS"]
        if r.method != "GET" { parts.append("-X \(r.method)") }
        parts.append(sq(r.url))
        if let proxy = r.proxy {
            // The proxy's password is masked in `proxy`: curl asks for it (or reads it from $SCIMSH_PROXY_PASSWORD).
            if let at = proxy.lastIndex(of: "@"), let scheme = proxy.firstRange(of: "://") {
                let credentials = proxy[scheme.upperBound..<at]
                let user = credentials.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                let address = String(proxy[..<scheme.upperBound]) + String(proxy[proxy.index(after: at)...])
                parts.append("-x " + sq(address))
                parts.append("-U \"" + user + ":$SCIMSH_PROXY_PASSWORD\"")
            } else {
                parts.append("-x " + sq(proxy))
            }
        }
        for h in r.headers {
            switch h.name.lowercased() {
            case "authorization":
                parts.append("-H \"Authorization: Bearer $SCIMSH_TOKEN\"")
            case "genestack-api-token":
                parts.append("-H \"Genestack-API-Token: $SCIMSH_API_TOKEN\"")
            case "user-agent", "accept":
                continue
            default:
                parts.append("-H " + sq("\(h.name): \(h.value)"))
            }
        }
        if let b = r.body { parts.append("--data-raw " + sq(String(decoding: b, as: UTF8.self))) }
        return parts.joined(separator: " ")
    }
}
