/// What a completion provider offers for the word before the cursor.
///
/// Offsets are UTF-8 byte offsets into the line, the unit libedit's `el_line` uses. The replaced word must end at
/// the cursor; `replacing.upperBound` is clamped to the cursor when it does not.
public struct Completion: Sendable, Equatable {
    /// The full texts that may replace the word (not only the missing rest), in display order.
    public var candidates: [String]
    /// The UTF-8 offsets of the word being replaced; it ends at the cursor.
    public var replacing: Range<Int>
    /// Whether a unique candidate is followed by a space; never after a candidate ending in `/`.
    public var appendsSpace: Bool

    /// Creates a completion offering `candidates` for the text at `replacing`.
    public init(candidates: [String], replacing: Range<Int>, appendsSpace: Bool = true) {
        self.candidates = candidates
        self.replacing = replacing
        self.appendsSpace = appendsSpace
    }

    /// No candidates: Tab beeps.
    public static let none = Completion(candidates: [], replacing: 0..<0)
}

/// Computes a completion for a line and a cursor (a UTF-8 offset); called on every Tab.
public typealias CompletionProvider = (_ line: String, _ cursor: Int) -> Completion

/// What pressing Tab does to the line, decided without a terminal.
///
/// Policy (like zsh's auto-list rather than bash's double Tab):
/// - no candidate: beep;
/// - one candidate: replace the word with it, then add a space unless the candidate ends in `/` or the
///   completion says not to;
/// - several candidates whose common prefix is longer than the typed word: replace the word with that prefix;
/// - otherwise: list the candidates at once below the line and redraw the prompt.
public enum CompletionAction: Sendable, Equatable {
    /// Nothing to offer.
    case beep
    /// Delete `deleteCount` Unicode scalars before the cursor, then insert `insert`.
    case replace(deleteCount: Int, insert: String)
    /// Show these candidates; the line stays as it is.
    case list([String])

    /// Decides what Tab does for `completion` on `line` with the cursor at UTF-8 offset `cursor`.
    public static func plan(line: String, cursor: Int, completion: Completion) -> CompletionAction {
        let bytes = Array(line.utf8)
        let end = min(max(cursor, 0), bytes.count)
        let start = min(max(completion.replacing.lowerBound, 0), end)
        let typedBytes = bytes[start..<end]
        let typed = String(decoding: typedBytes, as: UTF8.self)
        var seen = Set<String>()
        let candidates = completion.candidates.filter { seen.insert($0).inserted }
        guard let first = candidates.first else { return .beep }
        if candidates.count == 1 {
            var text = first
            if completion.appendsSpace, !first.hasSuffix("/") { text += " " }
            return replacement(typed: typed, with: text)
        }
        let prefix = commonPrefix(candidates)
        if prefix.count > typed.count {
            return replacement(typed: typed, with: prefix)
        }
        return .list(candidates)
    }

    /// The replacement that turns `typed` into `text`, deleting as little as possible.
    private static func replacement(typed: String, with text: String) -> CompletionAction {
        if text.hasPrefix(typed) {
            return .replace(deleteCount: 0, insert: String(text.dropFirst(typed.count)))
        }
        return .replace(deleteCount: typed.unicodeScalars.count, insert: text)
    }

    /// The longest common prefix of `strings`, compared by `Character`.
    static func commonPrefix(_ strings: [String]) -> String {
        guard var prefix = strings.first.map(Array.init) else { return "" }
        for string in strings.dropFirst() {
            var count = 0
            var iterator = string.makeIterator()
            while count < prefix.count, let next = iterator.next(), next == prefix[count] {
                count += 1
            }
            prefix.removeLast(prefix.count - count)
        }
        return String(prefix)
    }
}

/// Lays candidates out in columns, like a shell listing completions.
public enum CompletionListing {
    /// The listing of `candidates` for a terminal `width` columns wide, filled column by column, each line ending
    /// in a newline; at most `limit` candidates are shown, then a line says how many were left out.
    public static func format(_ candidates: [String], width: Int, limit: Int = 500) -> String {
        guard !candidates.isEmpty else { return "" }
        let shown = Array(candidates.prefix(max(limit, 1)))
        let widest = shown.map(displayWidth).max() ?? 0
        let gap = 2
        let usable = max(width, 1)
        let columns = max(1, min(shown.count, (usable + gap) / (widest + gap)))
        let rows = (shown.count + columns - 1) / columns
        var output = ""
        for row in 0..<rows {
            var line = ""
            for column in 0..<columns {
                let index = column * rows + row
                guard index < shown.count else { break }
                let item = shown[index]
                let isLast = column == columns - 1 || (column + 1) * rows + row >= shown.count
                line += item
                if !isLast {
                    line += String(repeating: " ", count: widest - displayWidth(item) + gap)
                }
            }
            output += line + "\n"
        }
        if candidates.count > shown.count {
            output += "… and \(candidates.count - shown.count) more\n"
        }
        return output
    }

    /// An approximation of the terminal width of `text`: one column per `Character`.
    private static func displayWidth(_ text: String) -> Int {
        text.count
    }
}
