import SCIMClient
import SCIMCore
import Synchronization

/// The concurrency of a bulk statement, adapted to what the server takes: additive increase (one more request in
/// flight per round of successes), multiplicative decrease (halved) when the server answers 429 or 503, and a
/// gentler decrease (× 0.8) when the latency of successful requests rises above twice the lowest seen plus 50 ms
/// (a loaded machine's jitter is not a server's overload); never above `concurrency` nor below 1. A decrease
/// counts once per half second, so a burst of 429s to requests already in flight halves the limit once, and the
/// limit grows again only a second after a 429 or 503 (a server's `Retry-After` is whole seconds: the requests it
/// turned away come back then, and should find room).
///
/// It starts at `concurrency`: a server that does not push back sees the concurrency asked for from the first
/// request, as before.
final class AdaptiveConcurrency: Sendable {
    /// The most requests in flight (`concurrency`).
    let maximum: Int

    struct State {
        var limit: Double
        var inFlight = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var lowest: Int
        var throttled = 0
        var lastDecrease: ContinuousClock.Instant?
        var lastThrottle: ContinuousClock.Instant?
        var baseLatency: Double?
        var smoothedLatency: Double?
    }

    private let state: LockedValue<State>

    init(maximum: Int) {
        self.maximum = max(1, maximum)
        state = LockedValue(State(limit: Double(self.maximum), lowest: self.maximum))
    }

    /// How often the server answered 429 or 503.
    var throttledCount: Int { state.withLock { $0.throttled } }
    /// The limit now, and the lowest it went to.
    var limits: (now: Int, lowest: Int) { state.withLock { (Int($0.limit), $0.lowest) } }

    /// Runs `body` when the limit allows one more in flight; 429 and 503 answers to its requests lower the limit.
    func run<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        await acquire()
        let op = Operation(shared: self)
        let start = ContinuousClock.now
        let result = await Throttle.$observer.withValue(op) { await body() }
        finish(latency: ContinuousClock.now - start, throttled: op.wasThrottled)
        return result
    }

    /// A summary for the statement's last line when the server pushed back: `; the server answered 429/503 12
    /// times, concurrency went down to 3 (now 6 of 8)`, else "".
    var summary: String {
        let s = state.withLock { $0 }
        guard s.throttled > 0 else { return "" }
        return "; the server answered 429/503 \(s.throttled) time\(s.throttled == 1 ? "" : "s"), concurrency went "
            + "down to \(s.lowest) (now \(Int(s.limit)) of \(maximum))"
    }

    private func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.inFlight < Int(s.limit), s.waiters.isEmpty {
                    s.inFlight += 1
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    private func finish(latency: Duration, throttled: Bool) {
        let seconds = Double(latency.components.seconds) + Double(latency.components.attoseconds) / 1e18
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.inFlight -= 1
            if !throttled {
                let base = min(s.baseLatency ?? seconds, seconds)
                s.baseLatency = base
                let smoothed = (s.smoothedLatency ?? seconds) * 0.9 + seconds * 0.1
                s.smoothedLatency = smoothed
                if smoothed > 2 * base + 0.05 {
                    decrease(&s, factor: 0.8)
                } else if s.lastThrottle.map({ ContinuousClock.now - $0 > .seconds(1) }) ?? true {
                    s.limit = min(Double(maximum), s.limit + 1 / s.limit)
                }
            }
            var ready: [CheckedContinuation<Void, Never>] = []
            while s.inFlight < Int(s.limit), !s.waiters.isEmpty {
                s.inFlight += 1
                ready.append(s.waiters.removeFirst())
            }
            return ready
        }
        for c in ready { c.resume() }
    }

    fileprivate func throttle() {
        state.withLock { s in
            s.throttled += 1
            s.lastThrottle = ContinuousClock.now
            decrease(&s, factor: 0.5)
        }
    }

    private func decrease(_ s: inout State, factor: Double) {
        let now = ContinuousClock.now
        if let last = s.lastDecrease, now - last < .milliseconds(500) { return }
        s.lastDecrease = now
        s.limit = max(1, s.limit * factor)
        s.lowest = min(s.lowest, Int(s.limit))
    }

    /// One operation's observer: notes that it was throttled (its latency then says nothing about the server's
    /// load) and lowers the shared limit.
    final class Operation: ThrottleObserver {
        let shared: AdaptiveConcurrency
        private let flag = Atomic<Bool>(false)

        init(shared: AdaptiveConcurrency) { self.shared = shared }

        var wasThrottled: Bool { flag.load(ordering: .relaxed) }

        func serverThrottled() {
            flag.store(true, ordering: .relaxed)
            shared.throttle()
        }
    }
}
