import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The write end of the self-pipe the SIGINT handler writes to (set once, before the handler is installed).
nonisolated(unsafe) private var interruptPipeWrite: Int32 = -1
/// Keeps the dispatch source alive (set once, on the main thread).
nonisolated(unsafe) private var interruptSource: (any DispatchSourceRead)?

/// Turns Ctrl-C into cancelling the running statement, without ever killing the process from a handler.
///
/// The handler is installed with `sigaction` and no SA_RESTART (so it also interrupts libedit's read); it only
/// writes a byte to a pipe. A dispatch read source on the pipe calls the current cancel action.
final class Interrupts: Sendable {
    static let shared = Interrupts()

    private let action = Mutex<(@Sendable () -> Void)?>(nil)
    private let count = Atomic<Int>(0)

    private init() {}

    /// Installs the handler (once).
    func install() {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        interruptPipeWrite = fds[1]
        let readFD = fds[0]
        let src = DispatchSource.makeReadSource(
            fileDescriptor: readFD, queue: DispatchQueue(label: "scimsh.interrupts"))
        src.setEventHandler { [self] in
            var buf = [UInt8](repeating: 0, count: 64)
            _ = buf.withUnsafeMutableBytes { read(readFD, $0.baseAddress, 64) }
            count.add(1, ordering: .sequentiallyConsistent)
            let a = action.withLock { $0 }
            a?()
        }
        src.resume()
        interruptSource = src
        var sa = sigaction()
        sa.__sigaction_handler.sa_handler = { _ in
            var b: UInt8 = 1
            _ = write(interruptPipeWrite, &b, 1)
        }
        sigemptyset(&sa.sa_mask)
        sa.sa_flags = 0
        sigaction(SIGINT, &sa, nil)
    }

    /// Sets what Ctrl-C does now (`nil`: nothing beyond interrupting a blocking read).
    func onInterrupt(_ a: (@Sendable () -> Void)?) {
        action.withLock { $0 = a }
    }

    /// How many interrupts arrived so far.
    var interruptCount: Int { count.load(ordering: .sequentiallyConsistent) }
}

/// Runs async work from synchronous code, waiting for it; Ctrl-C cancels it.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = Task.detached {
            let value = await body()
            result.withLock { $0 = value }
            done.signal()
        }
        Interrupts.shared.onInterrupt { task.cancel() }
        done.wait()
        Interrupts.shared.onInterrupt(nil)
        return result.withLock { $0! }
    }
}
