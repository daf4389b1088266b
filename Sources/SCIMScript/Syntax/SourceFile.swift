/// A half-open range of UTF-8 byte offsets into a ``SourceFile``'s text.
///
/// Every token and AST node carries one; line and column are computed only when a diagnostic is shown.
public struct SourceRange: Sendable, Hashable, CustomStringConvertible {
    /// The offset of the first byte.
    public var lowerBound: Int
    /// The offset one past the last byte (equal to `lowerBound` for an empty range, such as the end of input).
    public var upperBound: Int

    /// A range from its bounds; an upper bound below the lower bound is raised to it.
    public init(lowerBound: Int, upperBound: Int) {
        self.lowerBound = lowerBound
        self.upperBound = max(lowerBound, upperBound)
    }

    /// A range from a Swift range of offsets.
    public init(_ range: Range<Int>) {
        self.init(lowerBound: range.lowerBound, upperBound: range.upperBound)
    }

    /// An empty range at one offset.
    public static func at(_ offset: Int) -> SourceRange {
        SourceRange(lowerBound: offset, upperBound: offset)
    }

    /// The number of bytes covered.
    public var count: Int { upperBound - lowerBound }

    /// Whether the range covers no bytes.
    public var isEmpty: Bool { upperBound == lowerBound }

    /// The smallest range covering both ranges.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(lowerBound: min(lowerBound, other.lowerBound), upperBound: max(upperBound, other.upperBound))
    }

    /// The range moved by `delta` bytes.
    public func shifted(by delta: Int) -> SourceRange {
        SourceRange(lowerBound: lowerBound + delta, upperBound: upperBound + delta)
    }

    /// `lower..<upper`, for debugging.
    public var description: String { "\(lowerBound)..<\(upperBound)" }
}

/// A piece of scimsh source text with the name it is reported under.
public struct SourceFile: Sendable {
    /// The name diagnostics show: a file name such as `offboard.scim`, `<command line>` or `<stdin>`.
    public let name: String
    /// The full text.
    public let text: String
    /// The UTF-8 offset at which each line starts (the first is 0).
    private let lineStarts: [Int]

    /// A source file from its name and text.
    public init(name: String, text: String) {
        self.name = name
        self.text = text
        var starts = [0]
        var offset = 0
        for byte in text.utf8 {
            offset += 1
            if byte == UInt8(ascii: "\n") { starts.append(offset) }
        }
        self.lineStarts = starts
    }

    /// The number of UTF-8 bytes in the text.
    public var byteCount: Int { text.utf8.count }

    /// The number of lines (a trailing newline starts one more, empty, line).
    public var lineCount: Int { lineStarts.count }

    /// The 1-based line and column of a UTF-8 offset; the column counts `Character`s.
    ///
    /// Offsets outside the text are clamped to it, so this never traps.
    public func location(of offset: Int) -> (line: Int, column: Int) {
        let clamped = min(max(0, offset), byteCount)
        let lineIndex = lineIndex(containing: clamped)
        let start = lineStarts[lineIndex]
        let prefix = text.utf8.dropFirst(start).prefix(clamped - start)
        let column = String(decoding: prefix, as: UTF8.self).count + 1
        return (lineIndex + 1, column)
    }

    /// The text of 1-based line `n`, without its line terminator; empty when there is no such line.
    public func line(_ n: Int) -> String {
        guard n >= 1, n <= lineStarts.count else { return "" }
        let start = lineStarts[n - 1]
        let end = n < lineStarts.count ? lineStarts[n] - 1 : byteCount
        var bytes = text.utf8.dropFirst(start).prefix(max(0, end - start))
        if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The text covered by a range (clamped to the text).
    public func text(in range: SourceRange) -> String {
        let lower = min(max(0, range.lowerBound), byteCount)
        let upper = min(max(lower, range.upperBound), byteCount)
        return String(decoding: text.utf8.dropFirst(lower).prefix(upper - lower), as: UTF8.self)
    }

    /// The index into `lineStarts` of the line holding `offset` (which must be within `0...byteCount`).
    private func lineIndex(containing offset: Int) -> Int {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return low
    }
}
