import CFuzzDriver

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Runs libFuzzer with the process's arguments on `testOneInput`, then exits with its status.
///
/// SwiftPM gives every executable a Swift `main`, so the harnesses cannot use libFuzzer's own: each harness's
/// main.swift calls this instead.
public func runFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}

/// The input as a buffer (libFuzzer may pass a null pointer for the empty input).
public func input(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    guard let data, size > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
    return UnsafeBufferPointer(start: data, count: size)
}
