import FuzzDriver
import SCIMScript

let context = CompletionContext(
    variables: ["x", "prefix", "token", "output"],
    helpTopics: ["find", "patch", "variables"],
    knownIds: ["2819c223", "id with space", "é\"q"],
    knownUserNames: ["bjensen", "o'brien", "quote\"d"],
    fileLister: { prefix in [prefix + "a.csv", prefix + "dir/", "x y.jsonl"] },
    profileNames: ["prod", "staging"]
)

/// Completion: for any line and cursor (even inside a character or past the end), the replaced range lies inside
/// the line, and candidates are sorted and unique.
func fuzzCompletion(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard bytes.count >= 2 else { return 0 }
    // The first two bytes give the cursor, from -8 to past the end.
    let raw = Int(bytes[0]) | Int(bytes[1]) << 8
    let line = String(decoding: bytes.dropFirst(2), as: UTF8.self)
    let count = line.utf8.count
    let cursor = raw % (count + 17) - 8
    let result = Completer.complete(line: line, cursor: cursor, context: context)
    guard result.range.lowerBound >= 0, result.range.upperBound <= count else {
        fatalError(
            "range \(result.range) outside the line of \(count) bytes, cursor \(cursor): \(line.debugDescription)")
    }
    guard result.range.upperBound <= max(0, min(cursor, count)) else {
        fatalError("range \(result.range) ends after the cursor \(cursor): \(line.debugDescription)")
    }
    return 0
}
