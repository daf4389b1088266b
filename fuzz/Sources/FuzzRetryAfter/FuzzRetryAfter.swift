import FuzzDriver
@testable import SCIMClient

/// Retry-After: any header value gives no delay or a finite, non-negative one, capped at a day; never a trap.
func fuzzRetryAfter(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    let value = String(decoding: bytes, as: UTF8.self)
    guard let seconds = SCIMClient.parseRetryAfter(value) else { return 0 }
    guard seconds.isFinite, seconds >= 0 else { fatalError("Retry-After \(value.debugDescription) gave \(seconds)") }
    guard let delay = SCIMClient.retryDelay(seconds: seconds) else {
        fatalError("Retry-After \(value.debugDescription) gave \(seconds) but no delay")
    }
    guard delay >= .zero, delay <= .seconds(SCIMClient.maxRetryAfter) else {
        fatalError("Retry-After \(value.debugDescription) gave the delay \(delay)")
    }
    return 0
}
