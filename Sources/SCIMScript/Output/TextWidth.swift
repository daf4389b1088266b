import SCIMCore

/// Measures, pads and truncates text by the number of terminal columns it takes.
///
/// Widths follow what terminals do (as `wcwidth` does): East Asian wide and fullwidth characters and emoji take
/// two columns; combining marks, zero-width and format characters take none; control characters take none.
/// Width is measured per grapheme cluster, so `e` + U+0301 takes one column and a ZWJ emoji sequence or a flag two.
public enum TextWidth {
    /// The number of terminal columns `s` takes.
    public static func displayWidth(_ s: String) -> Int {
        if s.isPrintableASCII { return s.utf8.count }
        var total = 0
        for character in s { total += width(of: character) }
        return total
    }

    /// `s` followed by spaces up to `width` columns; `s` unchanged when it is already as wide or wider.
    public static func pad(_ s: String, to width: Int) -> String {
        let w = displayWidth(s)
        guard w < width else { return s }
        return s + String(repeating: " ", count: width - w)
    }

    /// `s` cut to at most `width` columns, ending in `…` when anything was cut; `s` unchanged when it fits.
    ///
    /// A wide character that would straddle the limit is dropped, so the result may be one column narrower.
    public static func truncate(_ s: String, to width: Int) -> String {
        guard width > 0 else { return "" }
        guard displayWidth(s) > width else { return s }
        var out = ""
        var used = 0
        for character in s {
            let w = self.width(of: character)
            if used + w > width - 1 { break }
            out.append(character)
            used += w
        }
        return out + "…"
    }

    /// The columns one grapheme cluster takes.
    static func width(of character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if first.value < 0x7F {
            if first.value < 0x20 { return 0 }
            if scalars.count == 1 { return 1 }
        }
        var hasTextSelector = false
        var hasEmojiSelector = false
        for s in scalars {
            if s.value == 0xFE0E { hasTextSelector = true }
            if s.value == 0xFE0F { hasEmojiSelector = true }
        }
        if !hasTextSelector {
            if first.properties.isEmojiPresentation { return 2 }
            if hasEmojiSelector, first.properties.isEmoji { return 2 }
        }
        return width(of: first)
    }

    /// The columns one scalar takes on its own.
    static func width(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        if v < 0x300 { return v == 0xAD ? 0 : 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format:
            return 0
        default:
            break
        }
        if (0x1160...0x11FF).contains(v) || v == 0x200B { return 0 }
        return isWide(v) ? 2 : 1
    }

    /// East Asian Wide (W) and Fullwidth (F) ranges, outside the emoji that `isEmojiPresentation` covers.
    static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
        0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
        0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1AFF0...0x1B2FF,
        0x1F200...0x1F265, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    /// Whether a code point is East Asian Wide or Fullwidth.
    static func isWide(_ v: UInt32) -> Bool {
        guard v >= 0x1100 else { return false }
        var low = 0
        var high = wideRanges.count - 1
        while low <= high {
            let mid = (low + high) / 2
            let range = wideRanges[mid]
            if v < range.lowerBound {
                high = mid - 1
            } else if v > range.upperBound {
                low = mid + 1
            } else {
                return true
            }
        }
        return false
    }
}
