/// Replaces secret values (tokens) in text with `****`: the one place every printer of messages, traces,
/// errors and data masks credentials.
///
/// Every string of every printed record passes through ``apply(_:)``, so the common case (no secret in the
/// text) is a byte scan without allocation.
public struct SecretMask: Sendable {
    /// The secrets masked; values shorter than 4 characters are left out (masking them would garble text).
    public let secrets: [String]
    private let needles: [[UInt8]]

    /// A mask for these secrets.
    public init(_ secrets: [String]) {
        self.secrets = secrets.filter { $0.count >= 4 }
        self.needles = self.secrets.map { Array($0.utf8) }
        self.shortest = needles.map(\.count).min() ?? 0
    }

    /// The byte length of the shortest secret: shorter text cannot hold one.
    private let shortest: Int

    /// Whether there is nothing to mask.
    public var isEmpty: Bool { secrets.isEmpty }

    /// Whether `text` holds any of the secrets.
    public func matches(_ text: String) -> Bool {
        guard !needles.isEmpty, text.utf8.count >= shortest else { return false }
        var text = text
        return text.withUTF8 { hay in needles.contains { SecretMask.firstIndex(of: $0, in: hay, from: 0) != nil } }
    }

    /// `text` with every occurrence of every secret replaced by `****`.
    public func apply(_ text: String) -> String {
        guard matches(text) else { return text }
        var t = text
        for secret in secrets {
            t = t.replacingEvery(secret, with: "****")
        }
        return t
    }

    /// The first offset at or after `start` where `needle` occurs in `hay`.
    static func firstIndex(of needle: [UInt8], in hay: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        let n = needle.count
        guard n > 0, hay.count - start >= n, let first = needle.first else { return nil }
        var i = start
        let last = hay.count - n
        return needle.withUnsafeBufferPointer { nb -> Int? in
            while i <= last {
                if hay[i] == first {
                    var j = 1
                    while j < n && hay[i + j] == nb[j] { j += 1 }
                    if j == n { return i }
                }
                i += 1
            }
            return nil
        }
    }
}
