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
