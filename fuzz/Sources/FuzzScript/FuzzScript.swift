import FuzzDriver
import SCIMScript

/// The script lexer and parser: any text parses or yields diagnostics whose ranges lie inside the text and which
/// render (plain and in colour) without trapping.
func fuzzScript(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = input(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    let file = SourceFile(name: "<fuzz>", text: text)
    let parser = Parser()
    let (_, diagnostics) = parser.parseRecovering(file)
    for diagnostic in diagnostics { check(diagnostic, in: file) }
    do {
        _ = try parser.parse(file)
    } catch {
        check(error, in: file)
    }
    _ = parser.needsMoreInput(text)
    return 0
}

func check(_ diagnostic: Diagnostic, in file: SourceFile) {
    if let range = diagnostic.range {
        guard range.lowerBound >= 0, range.upperBound <= file.byteCount else {
            fatalError("diagnostic range \(range) outside the \(file.byteCount) bytes: \(diagnostic.message)")
        }
    }
    guard !diagnostic.message.isEmpty else { fatalError("diagnostic without a message") }
    _ = diagnostic.location
    guard !diagnostic.render().isEmpty, !diagnostic.render(color: true).isEmpty else {
        fatalError("diagnostic renders empty")
    }
}
