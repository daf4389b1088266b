#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The thread the stages of statements that send requests run on: one for the process, started on first use and
/// never stopped.
///
/// The interpreter's work per record of a server pipeline is short (parse an answer, journal it, print a row)
/// and comes in bursts as answers arrive from the I/O thread. On Swift's cooperative pool each burst wakes an
/// idle pool thread, and the pool's threads take turns; on 2 cores those wake-ups and switches cost more than
/// the work. One thread that is woken only when it has gone idle needs about 10% less CPU per PATCH in a bulk
/// write (docs/performance.md). Local pipelines stay on the pool: they have no answers to wait for, and the
/// hop would only cost. Nothing the interpreter does blocks for long: waiting is `await`, and the blocking
/// writes (journal, output) are what the statement is waiting for anyway.
final class PipelineExecutor: TaskExecutor, @unchecked Sendable {
    // The queue and the flag are guarded by `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wakeUp: UnsafeMutablePointer<pthread_cond_t>
    private var queue: [UnownedJob] = []
    private var sleeping = false

    /// The process's pipeline thread; nil when the system would not start a thread (then statements run on
    /// Swift's pool, as local ones do).
    static let shared = PipelineExecutor()

    private init?() {
        mutex = .allocate(capacity: 1)
        wakeUp = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wakeUp, nil)
        queue.reserveCapacity(64)
        var thread = pthread_t()
        let me = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(
            &thread, nil,
            { argument in
                #if canImport(Glibc)
                    let executor = Unmanaged<PipelineExecutor>.fromOpaque(argument!).takeRetainedValue()
                    PipelineExecutor.nameThread()
                #else
                    let executor = Unmanaged<PipelineExecutor>.fromOpaque(argument).takeRetainedValue()
                #endif
                executor.runJobs()
                return nil
            }, me)
        guard status == 0 else {
            Unmanaged<PipelineExecutor>.fromOpaque(me).release()
            return nil
        }
        pthread_detach(thread)
    }

    /// Names the calling thread `scimsh-pipeline` for `top -H`, `perf` and debuggers (Glibc does not export
    /// `pthread_setname_np` to Swift).
    static func nameThread() {
        #if os(Linux)
            let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            _ = "scimsh-pipeline".withCString { write(fd, $0, 15) }
            close(fd)
        #endif
    }

    deinit {
        // Only when the thread could not be started: a running thread keeps its executor.
        pthread_cond_destroy(wakeUp)
        pthread_mutex_destroy(mutex)
        wakeUp.deallocate()
        mutex.deallocate()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pthread_mutex_lock(mutex)
        queue.append(job)
        let wake = sleeping
        sleeping = false
        pthread_mutex_unlock(mutex)
        if wake { pthread_cond_signal(wakeUp) }
    }

    /// Runs jobs in the order they came, taking all that are waiting at once; sleeps when there are none.
    private func runJobs() {
        var batch: [UnownedJob] = []
        batch.reserveCapacity(64)
        let executor = asUnownedTaskExecutor()
        while true {
            pthread_mutex_lock(mutex)
            while queue.isEmpty {
                sleeping = true
                pthread_cond_wait(wakeUp, mutex)
            }
            sleeping = false
            swap(&batch, &queue)
            pthread_mutex_unlock(mutex)
            for job in batch { job.runSynchronously(on: executor) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
