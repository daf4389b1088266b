import Foundation

/// A real HTTP proxy for tests: `tinyproxy` (Debian package `tinyproxy-bin`) in the foreground on a free
/// loopback port, with a configuration file and log of its own in a fresh temporary folder.
///
/// It accepts clients from 127.0.0.1 only, forwards plain requests (`GET http://host:port/path`) and tunnels
/// `CONNECT host:port` to any port (the configuration has no `ConnectPort` line, and tinyproxy then allows every
/// port). With ``start(basicAuth:)`` given credentials it answers `407 Proxy Authentication Required` to requests
/// without a `Proxy-Authorization: Basic` header (a CONNECT included). Beware: tinyproxy 1.11 answers *wrong*
/// credentials with `401 Unauthorized`, `WWW-Authenticate: Basic realm="Tinyproxy"` and an HTML page, which a
/// client can mistake for the server's own 401.
///
/// tinyproxy logs every request at level `Connect`, e.g.
/// `CONNECT   Dec 04 05:53:00.412 [15740]: Request (file descriptor 5): GET http://127.0.0.1:8080/x HTTP/1.1` and
/// `... Request (file descriptor 5): CONNECT 127.0.0.1:8443 HTTP/1.1`; ``requestLines()`` returns those request
/// lines. Run as root without a `User` line it warns and keeps running as root, which is harmless here; it never
/// binds anything but the port it is given.
///
/// ```swift
/// let proxy = try await Tinyproxy.start()
/// defer { proxy.stop() }
/// // curl -x proxy.url ...
/// XCTAssertTrue(proxy.requestLines().contains { $0.hasPrefix("GET http://127.0.0.1") })
/// ```
public final class Tinyproxy: Sendable {
    /// The port it listens on, on 127.0.0.1.
    public let port: Int
    /// The folder with its configuration, log and output; removed by ``stop()``.
    public let directory: String
    /// The log file tinyproxy writes.
    public let logPath: String
    private let process: ChildProcess

    /// The proxy URL for clients, `http://127.0.0.1:PORT`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// The `tinyproxy` executable, if installed.
    public static var executable: String? { ChildProcess.executable(named: "tinyproxy") }

    private init(port: Int, directory: String, logPath: String, process: ChildProcess) {
        self.port = port
        self.directory = directory
        self.logPath = logPath
        self.process = process
    }

    deinit { stop() }

    /// Starts a proxy and returns once it accepts connections.
    ///
    /// - Parameter basicAuth: when set, clients must send these credentials (`BasicAuth user password`); user and
    ///   password must not contain white space.
    /// - Throws: ``ChildProcessError`` when tinyproxy is not installed or does not start (with its output).
    public static func start(basicAuth: (user: String, password: String)? = nil) async throws -> Tinyproxy {
        guard let executable else {
            throw ChildProcessError("tinyproxy is not installed (apt-get install tinyproxy-bin, or make test-deps)")
        }
        if let basicAuth, (basicAuth.user + basicAuth.password).contains(where: \.isWhitespace) {
            throw ChildProcessError("tinyproxy's BasicAuth takes no white space in a user name or password")
        }
        let directory = try Fixtures.temporaryDirectory()
        var lastFailure = ChildProcessError("tinyproxy did not start")
        // The port is picked before tinyproxy binds it, so another process may take it first: try a few.
        for _ in 0..<3 {
            let port = try LoopbackPort.free()
            let logPath = directory + "/tinyproxy.log"
            var lines = [
                "Listen 127.0.0.1", "Port \(port)", "Allow 127.0.0.1", "LogFile \"\(logPath)\"", "LogLevel Connect",
                "MaxClients 32", "Timeout 30",
            ]
            if let basicAuth { lines.append("BasicAuth \(basicAuth.user) \(basicAuth.password)") }
            let config = directory + "/tinyproxy.conf"
            try (lines.joined(separator: "\n") + "\n").write(toFile: config, atomically: false, encoding: .utf8)
            let process = try ChildProcess.start([executable, "-d", "-c", config], in: directory, name: "tinyproxy")
            let deadline = ContinuousClock.now + .seconds(10)
            while process.isRunning, ContinuousClock.now < deadline, !LoopbackPort.accepts(port) {
                try await Task.sleep(for: .milliseconds(10))
            }
            if process.isRunning, LoopbackPort.accepts(port) {
                return Tinyproxy(port: port, directory: directory, logPath: logPath, process: process)
            }
            process.stop()
            let log = String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self)
            lastFailure = ChildProcessError(
                "tinyproxy did not accept connections on 127.0.0.1:\(port)\nlog:\n\(log)\nstderr:\n\(process.stderr())")
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw lastFailure
    }

    /// Everything tinyproxy has logged so far.
    public func log() -> String {
        String(decoding: FileManager.default.contents(atPath: logPath) ?? Data(), as: UTF8.self)
    }

    /// The request lines tinyproxy has logged, in order: `GET http://127.0.0.1:8080/x HTTP/1.1`,
    /// `CONNECT 127.0.0.1:8443 HTTP/1.1`.
    public func requestLines() -> [String] {
        log().split(separator: "\n").compactMap { line in
            guard line.hasPrefix("CONNECT"), let range = line.range(of: "): ") else { return nil }
            let rest = line[range.upperBound...]
            guard line[..<range.lowerBound].contains("]: Request (") else { return nil }
            return String(rest)
        }
    }

    /// Stops tinyproxy and deletes its folder. Calling it again does nothing.
    public func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
