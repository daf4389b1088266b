#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A value behind a `pthread_mutex_t`: the lock for state that tasks and threads share.
///
/// The project uses it instead of `Synchronization.Mutex` because ThreadSanitizer cannot see that one on Linux: its
/// lock and unlock are futex calls inside the uninstrumented standard library, so TSan reported every section it
/// guards as a race and a real race could not be told from them. A pthread mutex is intercepted by TSan, so under
/// `make sanitize` a report is a real race (docs/reliability.md). The API is `Mutex`'s: `withLock`.
public final class LockedValue<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    /// A lock guarding `value`.
    public init(_ value: Value) {
        self.value = value
        mutex = UnsafeMutablePointer.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` on the value with the lock held (not reentrant: `body` must not take the same lock).
    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure)
        -> Result
    {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
