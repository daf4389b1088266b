import SCIMCore
import SCIMSandbox
import SCIMTestSupport
import Synchronization
import XCTest

@testable import SCIMScript

#if canImport(Glibc)
    import Glibc
#endif

/// Statements that send requests run on the process's one pipeline thread: every stage and every write
/// operation, whoever calls the interpreter; local ones stay on Swift's pool; the thread takes jobs in order.
final class PipelineExecutorTests: InterpreterTestCase {
    /// The threads the `threads` stage ran on, and the executor it ran under.
    static let seen = Mutex<(threads: Set<UInt>, onPipeline: Int, elsewhere: Int)>(([], 0, 0))

    /// `… | threads`: passes records on and notes the thread and executor of each call.
    struct ThreadsCommand: Command {
        let name = "threads"
        let signature = "… | threads"
        let summary = "test: note the threads the stage runs on"

        func makeStage(_ invocation: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
            MapSource(input ?? EmptySource()) { record in
                let onPipeline = withUnsafeCurrentTask { task in
                    task?.unownedTaskExecutor == PipelineExecutor.shared?.asUnownedTaskExecutor()
                }
                PipelineExecutorTests.seen.withLock { s in
                    s.threads.insert(UInt(pthread_self()))
                    if onPipeline { s.onPipeline += 1 } else { s.elsewhere += 1 }
                }
                return record
            }
        }
    }

    func testStagesAndWritesRunOnThePipelineThread() async throws {
        let h = try await makeHarness(generatedUsers: 60, seedUsers: false)
        h.interpreter.register(ThreadsCommand())
        Self.seen.withLock { $0 = ([], 0, 0) }
        await h.expectSuccess(#"set concurrency = 8; find | threads | patch displayName="T" | threads | count"#)
        let seen = Self.seen.withLock { $0 }
        XCTAssertEqual(seen.onPipeline, 2 * 60, "both stages, every record, under the pipeline executor")
        XCTAssertEqual(seen.elsewhere, 0)
        XCTAssertEqual(seen.threads.count, 1, "one thread")
        XCTAssertEqual(h.server.users().filter { $0["displayName"] == "T" }.count, 60)
    }

    /// A pipeline that sends no request (a `let` list filtered locally) keeps to Swift's pool: the hop to the
    /// pipeline thread buys nothing there.
    func testLocalPipelinesStayOffThePipelineThread() async throws {
        let h = try await makeHarness(generatedUsers: 5, seedUsers: false)
        h.interpreter.register(ThreadsCommand())
        await h.expectSuccess("let users = find")
        Self.seen.withLock { $0 = ([], 0, 0) }
        await h.expectSuccess("$users | threads | count")
        let seen = Self.seen.withLock { $0 }
        XCTAssertEqual(seen.onPipeline, 0)
        XCTAssertEqual(seen.elsewhere, 5)
    }

    /// Jobs run in the order they were given, one at a time, all of them.
    func testRunsJobsInOrderOneAtATime() async {
        XCTAssertNotNil(PipelineExecutor.shared, "the thread started")
        final class Log: Sendable {
            let order = Mutex<[Int]>([])
            let running = Atomic<Int>(0)
            let overlapped = Atomic<Bool>(false)
        }
        let log = Log()
        var tasks: [Task<Void, Never>] = []
        for i in 0..<200 {
            tasks.append(
                Task(executorPreference: PipelineExecutor.shared) {
                    if log.running.add(1, ordering: .sequentiallyConsistent).newValue > 1 {
                        log.overlapped.store(true, ordering: .sequentiallyConsistent)
                    }
                    log.order.withLock { $0.append(i) }
                    log.running.subtract(1, ordering: .sequentiallyConsistent)
                })
        }
        for t in tasks { await t.value }
        XCTAssertEqual(log.order.withLock { $0 }, Array(0..<200))
        XCTAssertFalse(log.overlapped.load(ordering: .sequentiallyConsistent), "never two jobs at once")
    }
}
