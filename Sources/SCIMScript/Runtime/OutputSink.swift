/// Where an interpreter writes: data (records, echo) to one stream, messages (progress, counts, errors) to another.
///
/// The command-line tool writes data to stdout and messages to stderr; an embedding program may capture both.
public protocol OutputSink: Sendable {
    /// Writes data (stdout).
    func writeData(_ text: String)
    /// Writes a message line or lines (stderr). Text should end with a newline.
    func writeMessage(_ text: String)
    /// Shows or clears (with `nil`) a transient progress line; only terminals show it.
    func progress(_ line: String?)
    /// Whether messages may use ANSI color.
    var colorMessages: Bool { get }
    /// A statement has finished: write out anything buffered.
    func statementFinished()
}

extension OutputSink {
    public func progress(_ line: String?) {}
    public func statementFinished() {}
    public var colorMessages: Bool { false }
}

/// An output sink that keeps everything in memory (for embedding and tests).
public final class CapturingSink: OutputSink, @unchecked Sendable {
    private let lock = SimpleLock()
    private var _data = ""
    private var _messages = ""

    /// An empty sink.
    public init() {}

    /// Everything written as data.
    public var data: String { lock.withLock { _data } }
    /// Everything written as messages.
    public var messages: String { lock.withLock { _messages } }

    public func writeData(_ text: String) { lock.withLock { _data += text } }
    public func writeMessage(_ text: String) { lock.withLock { _messages += text } }

    /// Forgets what was written.
    public func reset() {
        lock.withLock {
            _data = ""
            _messages = ""
        }
    }
}
