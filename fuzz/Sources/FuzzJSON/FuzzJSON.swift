import FuzzDriver
import SCIMCore

/// JSON round trip: whatever parses encodes (compact and pretty) to text that parses to the same value.
func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let compact = JSONEncoderFast.encode(value)
    guard let again = try? JSONParser.parse(compact) else { fatalError("compact output does not parse: \(compact)") }
    guard again == value else { fatalError("compact round trip changed the value: \(compact)") }
    let pretty = JSONEncoderFast.pretty(value)
    guard let fromPretty = try? JSONParser.parse(pretty) else { fatalError("pretty output does not parse: \(pretty)") }
    guard fromPretty == value else { fatalError("pretty round trip changed the value: \(pretty)") }
    guard JSONEncoderFast.encode(again) == compact else { fatalError("encoding is not stable: \(compact)") }
    return 0
}
