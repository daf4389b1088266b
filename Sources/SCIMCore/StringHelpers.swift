/// Small string helpers shared by the client, the interpreter and the masks (no Foundation needed).
extension String {
    /// The string with every occurrence of `target` replaced (no Foundation needed).
    public func replacingEvery(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        let needle = Array(target.utf8)
        var text = self
        return text.withUTF8 { hay -> String in
            guard var hit = SecretMask.firstIndex(of: needle, in: hay, from: 0) else { return self }
            var out: [UInt8] = []
            out.reserveCapacity(hay.count)
            var from = 0
            while true {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: hay[from..<hit]))
                out.append(contentsOf: replacement.utf8)
                from = hit + needle.count
                guard let next = SecretMask.firstIndex(of: needle, in: hay, from: from) else { break }
                hit = next
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: hay[from...]))
            return String(decoding: out, as: UTF8.self)
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs (header values, CSV header names).
    public var trimmedSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }

    /// The string without leading and trailing white space of any kind, line breaks included.
    public func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension String {
    /// Whether every byte is ASCII.
    public var isAllASCII: Bool { utf8.allSatisfy { $0 < 0x80 } }

    /// Whether every byte is printable ASCII (0x20–0x7E): text that needs no escaping or width lookup for a
    /// terminal.
    public var isPrintableASCII: Bool { utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }
}
