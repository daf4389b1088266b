#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Seconds since 1970 as UTC text, without Foundation.
public enum UTCTime {
    /// `2026-11-29T10:17:05Z`.
    public static func iso8601(_ seconds: Int) -> String {
        let p = parts(seconds)
        return "\(date(p))T\(two(p.tm_hour)):\(two(p.tm_min)):\(two(p.tm_sec))Z"
    }

    /// `2026-11-29`.
    public static func day(_ seconds: Int) -> String { date(parts(seconds)) }

    static func parts(_ seconds: Int) -> tm {
        var t = time_t(seconds)
        var value = tm()
        gmtime_r(&t, &value)
        return value
    }

    static func date(_ p: tm) -> String { "\(p.tm_year + 1900)-\(two(p.tm_mon + 1))-\(two(p.tm_mday))" }

    static func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

extension UTCTime {
    /// An RFC 7643 §2.3.5 dateTime (`xsd:dateTime` as RFC 3339 writes it: `2026-12-04T03:48:15Z`,
    /// `2026-12-04T03:48:15.198910Z`, `2026-12-04T04:48:15+01:00`) as an instant: seconds since 1970 (UTC) and
    /// nanoseconds. `nil` for anything else, cheaply for text that is plainly not a date (most strings).
    public static func instant(_ text: String) -> (seconds: Int64, nanoseconds: Int64)? {
        let b = Array(text.utf8)
        guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), b[13] == UInt8(ascii: ":"),
            b[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ from: Int, _ count: Int) -> Int64? {
            var v: Int64 = 0
            for i in from..<(from + count) {
                let d = b[i] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                v = v * 10 + Int64(d)
            }
            return v
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2), (1...12).contains(month), (1...31).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var nanos: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] &- UInt8(ascii: "0") < 10 {
                if digits < 9 { nanos = nanos * 10 + Int64(b[i] - UInt8(ascii: "0")) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { nanos *= 10 }
        }
        guard i < b.count else { return nil }
        var offset: Int64 = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"), let oh = number(i + 1, 2), let om = number(i + 4, 2),
                oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        // Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        return (days * 86400 + hour * 3600 + minute * 60 + second - offset, nanos)
    }
}
