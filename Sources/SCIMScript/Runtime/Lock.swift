import SCIMCore

/// A small mutual-exclusion lock for state shared between tasks.
final class SimpleLock: Sendable {
    private let mutex = LockedValue<Void>(())

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        try mutex.withLock { _ in try body() }
    }
}

/// A value protected by a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = SimpleLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try lock.withLock { try body(&value) }
    }

    var current: Value { lock.withLock { value } }
}
