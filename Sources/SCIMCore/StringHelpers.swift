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
}

extension String {
    /// Whether every byte is ASCII. Reads eight bytes at a time; testing each byte of the `utf8` view (with
    /// `allSatisfy`) costs several times more, which shows on paths run for every record.
    public var isAllASCII: Bool { utf8Words { w in w & ASCIIWords.highs } }

    /// Whether every byte is printable ASCII (0x20–0x7E): text that needs no escaping or width lookup for a
    /// terminal.
    public var isPrintableASCII: Bool {
        utf8Words { w in
            let del = w ^ (0x7F &* ASCIIWords.ones)
            // The high bit of a byte is set where it is 0x80 or above, DEL, or below 0x20 (and, through a borrow,
            // maybe in the bytes after such a byte, which changes nothing: the text is not printable then).
            return (w | ((del &- ASCIIWords.ones) & ~del) | ((w &- 0x20 &* ASCIIWords.ones) & ~w)) & ASCIIWords.highs
        }
    }

    /// True when `flags` is zero for every eight-byte word of the UTF-8 bytes (the last word padded with spaces,
    /// which every test here accepts).
    @inline(__always)
    private func utf8Words(_ flags: (UInt64) -> UInt64) -> Bool {
        let result = utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard let base = bytes.baseAddress else { return true }
            var i = 0
            while i + 8 <= bytes.count {
                if flags(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) != 0 { return false }
                i += 8
            }
            guard i < bytes.count else { return true }
            var last = 0x20 &* ASCIIWords.ones
            withUnsafeMutableBytes(of: &last) { word in
                for j in i..<bytes.count { word[j - i] = bytes[j] }
            }
            return flags(last) == 0
        }
        if let result { return result }
        // Text not stored as contiguous UTF-8 (bridged): test a native copy.
        var copy = self
        copy.makeContiguousUTF8()
        return copy.utf8Words(flags)
    }
}

/// Constants for testing eight bytes at once.
enum ASCIIWords {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080
}
