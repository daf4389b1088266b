import SCIMCore

/// `table`, `json`, `jsonl`, `csv`, `show`: print records in a format.
struct OutputCommand: BuiltinCommand {
    let format: OutputFormat
    var name: String { format.rawValue }
    var signature: CommandSignature {
        let s = CommandSignature(output: .printed)
        return format == .table || format == .csv ? s.optional(.attribute, repeated: true) : s
    }
    var summary: String {
        switch format {
        case .table: return "print records as an aligned table (default columns: id userName displayName active email)"
        case .json: return "print records as a JSON array"
        case .jsonl: return "print records as JSON lines (one object per line)"
        case .csv: return "print records as CSV (RFC 4180)"
        case .show: return "print every attribute of each record, one block each"
        }
    }
    var help: String {
        summary + """
            . Records reaching the end of a pipeline without an output stage are printed in the format of \
            the `output` variable (default table). Data goes to stdout; counts and errors go to stderr.
            """ + (format == .table || format == .csv ? " ATTR... picks the columns." : "")
    }
    var examples: [CommandExample] {
        [CommandExample("find --limit 2 | \(name)", "two users as \(name)")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let columns = inv.positionals.map { $0.value.displayString }
        return OutputStage(
            format: format, columns: columns.isEmpty ? inv.selectedColumns : columns, upstream: input ?? EmptySource(),
            context: inv.context)
    }
}
