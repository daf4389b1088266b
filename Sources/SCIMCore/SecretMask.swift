/// Replaces secret values (tokens) in text with `****`: the one place every printer of messages, traces,
/// errors and data masks credentials.
///
/// Every string of every printed record passes through ``apply(_:)``, so the common case (no secret in the
/// text) is a byte scan without allocation.
public struct SecretMask: Sendable {
    /// The secrets masked; values shorter than 4 characters are left out (masking them would garble text).
    public let secrets: [String]
    private let needles: [[UInt8]]

    /// A mask for these secrets, and for each as it appears percent-encoded in a URL (a token with base64's
    /// `+/=` used as a filter value or an id shows encoded in traces, curl commands and error URLs). Longer
    /// forms come first, so a secret inside another is masked whole.
    public init(_ secrets: [String]) {
        var all: [String] = []
        for secret in secrets where secret.count >= 4 {
            for form in [secret] + SecretMask.encodedForms(secret) where !all.contains(form) { all.append(form) }
        }
        self.secrets = all.sorted { $0.utf8.count > $1.utf8.count }
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

    /// A secret percent-encoded as in a query value (every byte but `A-Za-z0-9-._~`) or a path segment (which
    /// also keeps `@` and `:`), with upper- and lower-case hex digits: the forms that differ from the secret.
    static func encodedForms(_ secret: String) -> [String] {
        func unreserved(_ b: UInt8) -> Bool {
            (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D
                || b == 0x2E || b == 0x5F || b == 0x7E
        }
        var forms: [String] = []
        for keepsPathCharacters in [false, true] {
            for digits in ["0123456789ABCDEF", "0123456789abcdef"] {
                let hex = Array(digits.utf8)
                var out: [UInt8] = []
                for b in secret.utf8 {
                    if unreserved(b) || (keepsPathCharacters && (b == 0x40 || b == 0x3A)) {
                        out.append(b)
                    } else {
                        out += [0x25, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
                    }
                }
                let form = String(decoding: out, as: UTF8.self)
                if form != secret, !forms.contains(form) { forms.append(form) }
            }
        }
        return forms
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
