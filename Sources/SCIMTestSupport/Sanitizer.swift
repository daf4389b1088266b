import Foundation

/// The sanitizer the suite runs under, from `SCIMSH_SANITIZER` (`make sanitize` sets it to `address` or `thread`).
///
/// Memory bounds in the tests are targets for the plain build; an instrumented `scimsh` holds more for the same work
/// (ASan: redzones, shadow memory and a quarantine of up to 256 MiB of freed blocks; TSan: shadow memory of several
/// times the heap). ``memoryBound(_:)`` widens a bound by that much, so the check still catches memory that grows
/// with the input (the 1.9 GB import of issue 18) under a sanitizer, without failing on the instrumentation itself.
public enum Sanitizer: String, Sendable {
    case address, thread

    /// The sanitizer of this run, or `nil` for a plain build.
    public static let current: Sanitizer? = ProcessInfo.processInfo.environment["SCIMSH_SANITIZER"].flatMap {
        Sanitizer(rawValue: $0)
    }

    /// A bound of `bytes` for the plain build, widened for the sanitizer of this run.
    public static func memoryBound(_ bytes: Int) -> Int {
        switch current {
        case nil: return bytes
        case .address: return 4 * bytes + (300 << 20)
        case .thread: return 8 * bytes + (300 << 20)
        }
    }

    /// A bound of `mib` MiB for the plain build, widened for the sanitizer of this run, in MiB.
    public static func memoryBound(mib: Int) -> Int { memoryBound(mib << 20) >> 20 }
}
