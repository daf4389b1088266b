import Dispatch
import SCIMClient
import SCIMCore

/// Completion values from the server itself, at the prompt: one bounded, cached lookup, never a wait on a slow
/// server.
///
/// When Tab completes a `userName` comparison value (`find userName eq "al`) or an id (`get 7e2`) and the users
/// seen so far offer nothing, the prompt asks the server once:
///
/// - under the RFC dialect, for userNames: `filter=userName sw "<typed>"&count=LIMIT`;
/// - under ODM (no `sw`), and for ids: one page of LIMIT users without a filter (ODM lists active users), matched
///   against the typed prefix here.
///
/// A lookup waits at most ``timeout``; a slow, failing or unreachable server gives nothing, so completion stays
/// silent. Each lookup is made once per server (and prefix, for `sw`): the answer, or the lack of one, is kept
/// for the session, and a lookup that is still running when the next Tab comes is not started again. The users
/// found are noted in the interpreter's ``SeenUsers``, where completion takes its values from. The lookup sends
/// through a client of its own with no observer, so `trace` output never breaks the line being edited.
public final class ServerValueLookup: Sendable {
    /// The longest a Tab waits for the server.
    public let timeout: Duration
    /// The most users one lookup asks for.
    public let limit: Int

    enum Entry {
        case running
        case done
    }
    let lookups = Locked<[String: Entry]>([:])

    /// A lookup that waits at most `timeout` and asks for at most `limit` users.
    public init(timeout: Duration = .milliseconds(400), limit: Int = 200) {
        self.timeout = timeout
        self.limit = max(1, limit)
    }

    /// What the word at the cursor wants from the server, if anything: a userName or an id with a typed prefix.
    public enum Want: Sendable, Equatable {
        /// A `userName` comparison value, after `userName OP "`.
        case userName(prefix: String)
        /// A user id after `get`, `delete`, `deactivate`.
        case id(prefix: String)
    }

    /// What completion at `cursor` would take from the server, given the completer's `result` there.
    public static func want(line: String, result: CompletionResult) -> Want? {
        let bytes = Array(line.utf8)
        guard result.range.lowerBound >= 0, result.range.upperBound <= bytes.count else { return nil }
        var typed = String(decoding: bytes[result.range], as: UTF8.self)
        if let first = typed.first, first == "\"" || first == "'" { typed.removeFirst() }
        switch result.position {
        case .userId:
            return .id(prefix: typed)
        case .filterValue:
            // The attribute and operator before the value: `userName eq "`, any case.
            let before = String(decoding: bytes[..<result.range.lowerBound], as: UTF8.self)
            let words = before.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "(" }).suffix(2)
            guard words.count == 2, words.first?.lowercased() == "username",
                CompletionContext.filterOperators.contains(words.last?.lowercased() ?? "")
            else { return nil }
            return .userName(prefix: typed)
        default:
            return nil
        }
    }

    /// Looks up users for `want` unless done before, waiting at most ``timeout``, and notes them in
    /// `interpreter.seen`; whether any users were noted by this call (completion should then run again).
    @discardableResult
    public func lookUp(_ want: Want, interpreter: Interpreter) -> Bool {
        let session = interpreter.session
        guard let configuration = session.clientConfiguration()?.applyingEnvironment(interpreter.environment) else {
            return false
        }
        let rfc = interpreter.completionDialect == .rfc
        var filter: String?
        if case .userName(let prefix) = want, rfc, !prefix.isEmpty {
            filter = "userName sw " + JSONEncoderFast.encode(.string(prefix))
        }
        let key = configuration.baseURL + "\n" + (filter ?? "")
        let start = lookups.withLock { l -> Bool in
            guard l[key] == nil else { return false }
            l[key] = .running
            return true
        }
        guard start else { return false }
        let done = DispatchSemaphore(value: 0)
        let noted = Locked<Bool>(false)
        let limit = limit
        let lookups = lookups
        Task.detached {
            defer {
                lookups.withLock { $0[key] = .done }
                done.signal()
            }
            guard let client = try? interpreter.quietClient(configuration) else { return }
            guard let page = try? await client.findUsers(filter: filter, startIndex: 1, count: limit) else { return }
            for user in page.resources { interpreter.seen.note(user.attributes) }
            noted.withLock { $0 = !page.resources.isEmpty }
        }
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        guard done.wait(timeout: .now() + .nanoseconds(Int(nanoseconds))) == .success else { return false }
        return noted.current
    }
}

extension Interpreter {
    /// A client for `configuration` on the interpreter's shared connections, reporting to no observer.
    func quietClient(_ configuration: SCIMConfiguration) throws -> SCIMClient {
        SCIMClient(configuration: configuration, transport: try sharedTransport(configuration), observer: nil)
    }
}
