import SCIMCore
import Synchronization

/// The credential a client sends, and the command that gives a fresh one when the server says it expired.
///
/// Many requests in flight get the same 401 when a token expires; the first runs the command and the others
/// wait for it and use its token, so a bulk job runs the command once per expiry.
final class Credential: Sendable {
    /// The credential and its header, made once per token rather than once per request.
    let state: LockedValue<(auth: SCIMAuth, header: (name: String, value: String)?)>
    /// The command line of the token command, or `nil`.
    let command: String?
    /// The refresh under way, which later 401s wait for instead of running the command again.
    let inFlight = LockedValue<Task<Void, any Error>?>(nil)
    /// The credential (header value) for which the command failed or gave the same token back, and why: later
    /// 401s with it fail at once instead of running the command once per request of a bulk job.
    let dead = LockedValue<(value: String, error: any Error)?>(nil)

    init(_ auth: SCIMAuth, command: String?) {
        state = LockedValue((auth, auth.header))
        self.command = command
    }

    /// The credential to send now.
    var auth: SCIMAuth { state.withLock { $0.auth } }

    /// Its header (`Authorization: Bearer …`), or `nil` without a credential.
    var header: (name: String, value: String)? { state.withLock { $0.header } }

    /// Gets a fresh token unless the credential already differs from `used` (the header value the request
    /// that got 401 carried): another request refreshed it meanwhile.
    func refresh(replacing used: String?) async throws {
        guard let command else { throw TokenCommandError.emptyCommand() }
        if let used, let d = dead.withLock({ $0 }), d.value == used { throw d.error }
        let task = inFlight.withLock { current -> Task<Void, any Error>? in
            if let current { return current }
            if let used, header?.value != used { return nil }
            let made = Task { [self] in
                defer { inFlight.withLock { $0 = nil } }
                let before = header?.value
                do {
                    let token = try await TokenCommand(parsing: command).run()
                    let after = state.withLock { s -> String? in
                        let fresh: SCIMAuth = if case .apiToken = s.auth { .apiToken(token) } else { .bearer(token) }
                        s = (fresh, fresh.header)
                        return s.header?.value
                    }
                    if let before, after == before { throw Credential.sameToken }
                } catch {
                    if let before { dead.withLock { $0 = (before, error) } }
                    throw error
                }
            }
            current = made
            return made
        }
        try await task?.value
    }

    /// The command gave back the token the server had just refused.
    static let sameToken = TokenCommandError.sameToken()
}

/// What happened to the requests of one task beyond their answers, for the caller's records: the interpreter's
/// write stages journal it.
///
/// ```swift
/// let notes = RequestNotes()
/// try await RequestNotes.$current.withValue(notes) { try await client.patchUser(id: id, operations: ops) }
/// if notes.tokenRefreshed { … }
/// ```
public final class RequestNotes: Sendable {
    let refreshed = Atomic<Bool>(false)

    /// Notes with nothing noted yet.
    public init() {}

    /// Whether a request got 401 and was sent again with a fresh token from the token command.
    public var tokenRefreshed: Bool { refreshed.load(ordering: .relaxed) }

    func noteTokenRefreshed() { refreshed.store(true, ordering: .relaxed) }

    /// The notes of requests sent from the current task.
    @TaskLocal public static var current: RequestNotes?
}
