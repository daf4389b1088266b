import Dispatch
import SCIMCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The write end of the self-pipe the SIGINT handler writes to (set once, before the handler is installed).
nonisolated(unsafe) private var interruptPipeWrite: Int32 = -1
/// Keeps the dispatch source alive (set once, on the main thread).
nonisolated(unsafe) private var interruptSource: (any DispatchSourceRead)?
/// The first SIGTERM or SIGHUP, stored by the handler itself (a lock-free atomic, safe in a handler), so that
/// the prompt sees it as soon as libedit's read returns, before the pipe's reader has run.
private let terminating = Atomic<Int32>(0)

/// Turns Ctrl-C (SIGINT), SIGTERM and SIGHUP into cancelling the running statement, without ever killing the
/// process from a handler: no new write starts, writes on the wire finish, the journal and the summary say what
/// the server got. After SIGTERM or SIGHUP scimsh then exits with 128 + the signal's number (143, 129), also
/// from the prompt; after Ctrl-C a script exits with 130 and the prompt returns.
///
/// The handler is installed with `sigaction` and no SA_RESTART (so it also interrupts libedit's read); it only
/// writes the signal's number as a byte to a pipe. A dispatch read source on the pipe calls the current cancel
/// action.
final class Interrupts: Sendable {
    static let shared = Interrupts()

    private let action = LockedValue<(@Sendable () -> Void)?>(nil)

    private init() {}

    /// The first SIGTERM or SIGHUP received, or 0.
    var terminatingSignal: Int32 { terminating.load(ordering: .sequentiallyConsistent) }

    /// `code`, or 128 + the terminating signal once SIGTERM or SIGHUP arrived.
    func exitCode(_ code: Int32) -> Int32 {
        let signal = terminatingSignal
        return signal == 0 ? code : 128 + signal
    }

    /// What stopped the run, for `scimsh: …` lines: `terminated by SIGTERM`, or `interrupted`.
    var stopMessage: String {
        switch terminatingSignal {
        case SIGTERM: "terminated by SIGTERM"
        case SIGHUP: "terminated by SIGHUP"
        default: "interrupted"
        }
    }

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
            action.withLock { $0 }?()
        }
        src.resume()
        interruptSource = src
        var sa = sigaction()
        // Initialised here, not first in the handler (a global's lazy initialisation is not async-signal-safe).
        _ = terminating.load(ordering: .sequentiallyConsistent)
        sa.__sigaction_handler.sa_handler = { signal in
            if signal == SIGTERM || signal == SIGHUP {
                _ = terminating.compareExchange(expected: 0, desired: signal, ordering: .sequentiallyConsistent)
            }
            var b = UInt8(truncatingIfNeeded: signal)
            _ = write(interruptPipeWrite, &b, 1)
        }
        sigemptyset(&sa.sa_mask)
        sa.sa_flags = 0
        var handled = sigset_t()
        sigemptyset(&handled)
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            // A SIGHUP ignored at start (`nohup scimsh …`) stays ignored.
            var current = sigaction()
            if signal == SIGHUP, sigaction(signal, nil, &current) == 0,
                unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self)
                    == unsafeBitCast(SIG_IGN, to: Int.self)
            {
                continue
            }
            sigaction(signal, &sa, nil)
            sigaddset(&handled, signal)
        }
        // A parent may start scimsh with these signals blocked (a thread of a program that blocks them, as
        // dispatch's workers do); the main thread takes them.
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
    }

    /// Sets what Ctrl-C does now (`nil`: nothing beyond interrupting a blocking read).
    func onInterrupt(_ a: (@Sendable () -> Void)?) {
        action.withLock { $0 = a }
    }
}

/// Runs async work from synchronous code, waiting for it; Ctrl-C, SIGTERM and SIGHUP cancel it (and, once
/// SIGTERM or SIGHUP came, it starts cancelled).
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let result = LockedValue<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = Task.detached {
            let value = await body()
            result.withLock { $0 = value }
            done.signal()
        }
        Interrupts.shared.onInterrupt { task.cancel() }
        if Interrupts.shared.terminatingSignal != 0 { task.cancel() }
        done.wait()
        Interrupts.shared.onInterrupt(nil)
        return result.withLock { $0! }
    }
}
