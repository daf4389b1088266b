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

/// A value protected by a lock.
final class Locked<Value>: @unchecked Sendable {
    private let box: LockedValue<Value>

    init(_ value: Value) { box = LockedValue(value) }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try box.withLock { try body(&$0) }
    }

    var current: Value { box.withLock { $0 } }
}
