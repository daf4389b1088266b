/// Replaces secret values (tokens) in text with `****`: the one place every printer of messages, traces,
/// errors and data masks credentials.
public struct SecretMask: Sendable {
    /// The secrets masked; values shorter than 4 characters are left out (masking them would garble text).
    public let secrets: [String]

    /// A mask for these secrets.
    public init(_ secrets: [String]) {
        self.secrets = secrets.filter { $0.count >= 4 }
    }

    /// Whether there is nothing to mask.
    public var isEmpty: Bool { secrets.isEmpty }

    /// `text` with every occurrence of every secret replaced by `****`.
    public func apply(_ text: String) -> String {
        var t = text
        for secret in secrets where t.contains(secret) {
            t = t.replacingEvery(secret, with: "****")
        }
        return t
    }
}

extension String {
    /// The string with every occurrence of `target` replaced (no Foundation needed).
    public func replacingEvery(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
