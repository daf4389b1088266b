import Foundation

/// The `curl` command as an independent HTTP client in tests: what it accepts (a certificate, a proxy) is what a
/// standard client accepts, not what our own client happens to.
///
/// The bearer token goes to curl as a header on standard input (`-H @-`), so it never shows on the process list;
/// `~/.curlrc` is ignored (`-q`) and so are proxy environment variables unless ``get(_:token:proxy:arguments:)``
/// is given a proxy.
public enum Curl {
    /// The `curl` executable, if installed.
    public static var executable: String? { ChildProcess.executable(named: "curl") }

    /// What one curl run gave.
    public struct Result: Sendable, CustomStringConvertible {
        /// curl's exit code: 0 when a response arrived (whatever its status), e.g. 60 for a certificate that does
        /// not verify, 56 when the connection failed while receiving (a TLS alert).
        public var exitCode: Int32
        /// The HTTP status of the response, 0 when none arrived.
        public var status: Int
        /// The response body.
        public var body: String
        /// curl's error messages (`curl: (60) SSL certificate problem: ...`).
        public var stderr: String

        /// All fields, for failure messages.
        public var description: String { "curl exit \(exitCode), HTTP \(status), body: \(body), stderr: \(stderr)" }
    }

    /// Sends `GET url` with `Authorization: Bearer token` (when given) and returns the response.
    ///
    /// - Parameters:
    ///   - proxy: a proxy URL (`-x`); `nil` uses no proxy, whatever the environment says.
    ///   - arguments: more curl options, e.g. `["--cacert", ca]` or `["--cert", c, "--key", k]`.
    public static func get(
        _ url: String, token: String? = nil, proxy: String? = nil, arguments: [String] = [], timeout: Double = 30
    ) throws -> Result {
        guard let executable else { throw ChildProcessError("curl is not installed (apt-get install curl)") }
        let marker = "\n--scimsh-http-status:"
        var all = ["-q", "-sS", "--max-time", "20", "--proxy", proxy ?? "", "-w", marker + "%{http_code}"]
        if token != nil { all += ["-H", "@-"] }
        all += arguments + [url]
        let run = try Fixtures.run(
            executable, all, stdin: token.map { "Authorization: Bearer \($0)\n" } ?? "", timeout: timeout)
        var body = run.stdout
        var status = 0
        if let range = body.range(of: marker, options: .backwards) {
            status = Int(body[range.upperBound...]) ?? 0
            body = String(body[..<range.lowerBound])
        }
        return Result(exitCode: run.status, status: status, body: body, stderr: run.stderr)
    }
}
