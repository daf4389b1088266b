import SCIMCore

/// A total deadline for every request sent from a task (the interpreter sets one per statement, from
/// `statement_timeout`): no attempt waits past it, and no retry starts that could not finish before it.
///
/// The configuration's ``SCIMConfiguration/timeout`` bounds one attempt; a stalled server otherwise costs every
/// attempt's timeout plus the backoff between them (4 × 30 s + 1.4 s at the defaults).
public struct StatementDeadline: Sendable {
    /// When the time is up.
    public let instant: ContinuousClock.Instant
    /// The limit as given, for messages.
    public let limit: Duration

    /// A deadline `limit` from now.
    public init(limit: Duration) {
        self.limit = limit
        self.instant = .now + limit
    }

    /// The time left (negative once passed).
    public var remaining: Duration { instant - .now }

    /// "statement_timeout = 10 s".
    var setting: String { "statement_timeout = \(limit.components.seconds) s" }

    /// The deadline of requests sent from the current task, if any.
    @TaskLocal public static var current: StatementDeadline?
}

/// Keeps the answers in memory bounded across concurrent requests: an answer larger than ``threshold`` is read,
/// and then decoded, only while it holds the gate's one permit, and the permit goes to large answers in the order
/// their requests were sent (a large answer waits until every request sent before it has its answer). N requests
/// in flight then hold at most N × `threshold` bytes plus one large answer being decoded, and large results come
/// out in request order, so a stage that passes results on in order (a write stage) does not pile up decoded
/// results behind a slow first one: 64 concurrent gets of large answers reached 2.25 GB.
final class LargeAnswerGate: Sendable {
    /// Answers up to this many bytes need no permit.
    let threshold: Int

    private struct State {
        var busy = false
        var nextTicket = 0
        var inFlight: Set<Int> = []
        var waiters: [(ticket: Int, continuation: CheckedContinuation<Void, Never>)] = []

        /// The waiter that may have the permit now, removed from the waiters.
        mutating func eligible() -> CheckedContinuation<Void, Never>? {
            guard !busy, let first = inFlight.min(), let i = waiters.firstIndex(where: { $0.ticket == first })
            else { return nil }
            busy = true
            return waiters.remove(at: i).continuation
        }
    }

    private let state = LockedValue(State())

    init(threshold: Int) { self.threshold = threshold }

    /// A request is being sent: its place in the order.
    func enter() -> Int {
        state.withLock { s in
            s.nextTicket += 1
            s.inFlight.insert(s.nextTicket)
            return s.nextTicket
        }
    }

    /// The request `ticket` has its answer (or failed).
    func leave(_ ticket: Int) {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.inFlight.remove(ticket)
            return s.eligible()
        }
        next?.resume()
    }

    /// Waits for the permit for the answer to request `ticket`; it is given back when the returned lease goes away
    /// (with the answer that holds it).
    func acquire(_ ticket: Int) async -> Lease {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.waiters.append((ticket, c))
                return s.eligible()
            }
            next?.resume()
        }
        return Lease(gate: self)
    }

    fileprivate func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.busy = false
            return s.eligible()
        }
        next?.resume()
    }

    /// The permit, held by an answer (``HTTPResponseData``) until it is dropped.
    final class Lease: Sendable {
        let gate: LargeAnswerGate
        init(gate: LargeAnswerGate) { self.gate = gate }
        deinit { gate.release() }
    }
}

/// Counts the elements of a ListResponse's `Resources` array without parsing it, so a page far larger than
/// asked for is refused before it is turned into values (a page of 10^6 tiny resources took 622 MB).
enum ResourceCounter {
    /// The number of elements of the top-level object's `Resources` member (name compared ignoring case), or
    /// `nil` when there is none or the text is not shaped so (the parser then reports what is wrong).
    static func count(_ bytes: [UInt8]) -> Int? {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        let key = Array("resources".utf8)
        var depth = 0
        var i = 0
        let n = bytes.count
        var lastString: Range<Int>?
        while i < n {
            let b = bytes[i]
            if b == quote {
                let start = i + 1
                i += 1
                while i < n, bytes[i] != quote {
                    i += bytes[i] == backslash ? 2 : 1
                }
                lastString = start..<min(i, n)
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if b == UInt8(ascii: "["), depth == 1, let s = lastString, s.count == key.count,
                    bytes[s].map({ $0 | 0x20 }) == key
                {
                    return countElements(bytes, from: i)
                }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ","):
                lastString = nil
            default:
                break
            }
            i += 1
        }
        return nil
    }

    /// The elements of the array whose `[` is at `start`.
    private static func countElements(_ bytes: [UInt8], from start: Int) -> Int? {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var depth = 0
        var count = 0
        var sawValue = false
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == quote {
                i += 1
                while i < bytes.count, bytes[i] != quote {
                    i += bytes[i] == backslash ? 2 : 1
                }
                if depth == 1 { sawValue = true }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if depth == 1 { sawValue = true }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return sawValue ? count + 1 : 0 }
            case UInt8(ascii: ","):
                if depth == 1 { count += 1 }
            case 0x20, 0x09, 0x0A, 0x0D:
                break
            default:
                if depth == 1 { sawValue = true }
            }
            i += 1
        }
        return nil
    }
}

/// Something that wants to know when a server says it is overloaded, to slow down (the interpreter's write
/// stages adapt their concurrency).
public protocol ThrottleObserver: Sendable {
    /// The server answered 429 or 503 to a request sent from the observing task.
    func serverThrottled()
}

/// Where ``SCIMClient`` reports a 429 or 503 answer: the observer of the current task, if any.
public enum Throttle {
    /// The observer told of 429 and 503 answers to requests sent from the current task.
    @TaskLocal public static var observer: (any ThrottleObserver)?
}
