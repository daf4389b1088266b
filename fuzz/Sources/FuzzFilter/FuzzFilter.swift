import FuzzDriver
import SCIMCore

/// Filter printing is stable: a filter that parses prints to text that parses to a filter printing the same text.
func fuzzFilter(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let first = bytes.first else { return 0 }
    // The first byte picks the dialect: plain filters, or the script's filters with $variables.
    let allowVariables = first & 1 == 1
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    guard let filter = try? FilterParser.parse(text, allowVariables: allowVariables) else { return 0 }
    let printed = filter.description
    let reparsed: SCIMFilter
    do {
        reparsed = try FilterParser.parse(printed, allowVariables: allowVariables)
    } catch {
        fatalError("printed filter does not parse: \(printed) (\(error)) from \(text)")
    }
    guard reparsed.description == printed else {
        fatalError("printing is not stable: \(printed) -> \(reparsed.description)")
    }
    _ = filter.treeDescription()
    return 0
}
