import SCIMCore

/// A small mutual-exclusion lock for state shared between tasks.
final class SimpleLock: Sendable {
    // A one-byte placeholder rather than Void: TSan's exclusivity instrumentation reported the inout access to a
    // zero-size value inside `withLock` as a race with itself (docs/reliability.md).
    private let mutex = LockedValue<UInt8>(0)

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        try mutex.withLock { _ in try body() }
    }
}

/// A value protected by a lock: SCIMCore's `LockedValue`, which ThreadSanitizer sees.
typealias Locked = LockedValue

extension LockedValue {
    /// The value, read with the lock held.
    var current: Value { withLock { $0 } }
}
