import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
public import SCIMCore
import ServiceLifecycle

/// An error starting a ``SandboxServer``.
public struct SandboxStartError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, e.g. the address could not be bound.
    public var message: String

    public var description: String { message }
}

/// A ``Sandbox`` listening on a TCP port: `start` binds and returns once the server accepts connections,
/// `stop` shuts it down.
///
/// It installs no signal handlers (the shell owns SIGINT); a stand-alone runner stops it on a signal itself.
///
/// ```swift
/// let server = try await SandboxServer.start(SandboxConfiguration())
/// print(server.baseURL)   // http://127.0.0.1:54321/api/v1/scim
/// await server.stop()
/// ```
public final class SandboxServer: Sendable {
    /// The state and request handling: users, request log, fault switches.
    public let sandbox: Sandbox
    /// The port the server listens on (the real one when the configuration asked for port 0).
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, Never>
    private let stopped = NIOLockedValueBox(false)

    private init(sandbox: Sandbox, port: Int, group: ServiceGroup, task: Task<Void, Never>) {
        self.sandbox = sandbox
        self.port = port
        self.group = group
        self.task = task
    }

    /// Starts a sandbox server and returns once it is listening.
    ///
    /// With ``SandboxConfiguration/tls`` set it serves HTTPS (and ``baseURL`` starts with `https://`).
    ///
    /// - Throws: ``SandboxStartError`` when the address cannot be bound (port in use, bad host), or a TLS file
    ///   is missing, unreadable or malformed.
    public static func start(_ configuration: SandboxConfiguration = SandboxConfiguration()) async throws
        -> SandboxServer
    {
        let server = try configuration.tls?.serverBuilder() ?? .http1()
        let sandbox = Sandbox(configuration: configuration)
        let started = StartSignal()
        let app = sandbox.makeApplication(server: server) { channel in
            started.resolve(.success(channel.localAddress?.port ?? configuration.port))
        }
        let logger = Logger(label: "scimsh.sandbox", factory: { _ in SwiftLogNoOpLogHandler() })
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            do {
                try await group.run()
                started.resolve(.failure(SandboxStartError(message: "the sandbox server stopped before it started")))
            } catch {
                started.resolve(
                    .failure(
                        SandboxStartError(
                            message:
                                "could not start the sandbox on \(configuration.host):\(configuration.port): \(error)"
                        )))
            }
        }
        let port: Int
        do {
            port = try await started.wait()
        } catch {
            task.cancel()
            await task.value
            throw error
        }
        return SandboxServer(sandbox: sandbox, port: port, group: group, task: task)
    }

    /// The host the server listens on.
    public var host: String { sandbox.configuration.host }

    /// `https` when the server was started with ``SandboxConfiguration/tls``, else `http`.
    public var scheme: String { sandbox.scheme }

    /// The scheme, host and port, e.g. `https://127.0.0.1:54321` (what a client's host setting takes).
    public var origin: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(h):\(port)"
    }

    /// The SCIM base URL, e.g. `http://127.0.0.1:54321/api/v1/scim` (no trailing slash).
    public var baseURL: String { origin + sandbox.basePath }

    /// Stops accepting connections, finishes requests in flight and returns when the server has stopped.
    /// Calling it again does nothing.
    public func stop() async {
        let first = stopped.withLockedValue { wasStopped in
            defer { wasStopped = true }
            return !wasStopped
        }
        if first {
            await group.triggerGracefulShutdown()
        }
        await task.value
    }

    // MARK: Forwarders to the sandbox

    /// Every user, deactivated ones included (see ``Sandbox/users()``).
    public func users() -> [JSONObject] { sandbox.users() }

    /// The requests answered so far (see ``Sandbox/requestLog()``).
    public func requestLog() -> [SandboxRequest] { sandbox.requestLog() }

    /// Empties the request log.
    public func clearLog() { sandbox.clearLog() }

    /// Replaces the fault switches (see ``Sandbox/setFaults(_:)``).
    public func setFaults(_ faults: SandboxFaults) { sandbox.setFaults(faults) }

    /// Changes some fault switches, keeping the others; `failFirst` counts from now.
    public func setFaults(
        latency: Duration? = nil, failureRate: Double? = nil, failFirst: Int? = nil, retryAfterSeconds: Int? = nil
    ) {
        sandbox.setFaults(
            latency: latency, failureRate: failureRate, failFirst: failFirst, retryAfterSeconds: retryAfterSeconds)
    }

    /// Makes the next `count` requests fail with `failure` (see ``Sandbox/failNext(_:count:)``).
    public func failNext(_ failure: InjectedFailure, count: Int = 1) { sandbox.failNext(failure, count: count) }
}

/// A one-shot result that `start` waits for: the bound port, or why the server could not start.
final class StartSignal: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Int, any Error>?)
        case done(Result<Int, any Error>)
    }

    private let state = NIOLockedValueBox<State>(.waiting(nil))

    func resolve(_ result: Result<Int, any Error>) {
        let continuation: CheckedContinuation<Int, any Error>? = state.withLockedValue { state in
            switch state {
            case .done: return nil
            case .waiting(let c):
                state = .done(result)
                return c
            }
        }
        continuation?.resume(with: result)
    }

    func wait() async throws -> Int {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Int, any Error>) in
            let ready: Result<Int, any Error>? = state.withLockedValue { state in
                switch state {
                case .done(let r): return r
                case .waiting:
                    state = .waiting(c)
                    return nil
                }
            }
            if let ready { c.resume(with: ready) }
        }
    }
}
