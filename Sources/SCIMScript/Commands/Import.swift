import SCIMCore

/// `import FILE`: reads records from a CSV, JSON or JSON-lines file.
struct ImportCommand: BuiltinCommand {
    let name = "import"
    let signature = CommandSignature(input: .none).required(.file)
    let summary = "read records from a .csv, .json or .jsonl file"
    let help = """
        Reads records from FILE; the format comes from the extension (.csv, .json, .jsonl). CSV needs a header \
        row; dotted headers (name.familyName) build nested attributes, empty cells are left out. JSON holds an \
        array of objects (or one object, or a ListResponse). CSV and JSON lines are read as a stream.
        Typical: import new-hires.csv | create
        """
    var examples: [CommandExample] {
        [CommandExample("import examples/data/new-hires.csv | count", "count the rows of a CSV file")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let arg = inv.positionals[0]
        let path = arg.value.displayString
        return FileSource(
            try fileErrors(at: arg.range) { try RecordFileReader(path: path) }, range: arg.range)
    }
}

/// `body`'s result, a file's error turned into a ``ScriptError`` at `range`.
func fileErrors<T>(at range: SourceRange, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw ScriptError(String(describing: error), range: range)
    }
}

final class FileSource: RecordSource {
    let reader: RecordFileReader
    let range: SourceRange

    init(_ reader: RecordFileReader, range: SourceRange) {
        self.reader = reader
        self.range = range
    }

    deinit { reader.close() }

    func next() async throws -> Record? {
        try Task.checkCancellation()
        return try fileErrors(at: range) { try reader.next() }
    }
}

/// `save FILE`: writes records to a file and passes them on.
struct SaveCommand: BuiltinCommand {
    let name = "save"
    let signature = CommandSignature(output: .sameRecords).required(.file)
    let summary = "write records to a .csv, .json or .jsonl file, passing them on"
    let help = """
        Writes the input records to FILE (format from the extension: .csv, .json, .jsonl) and passes them on. \
        The file appears complete or not at all: it is written under a temporary name and renamed at the end.
        Typical: find | save before-offboarding.jsonl | delete
        """
    var examples: [CommandExample] {
        [CommandExample("find --limit 3 | save /tmp/scimsh-example.jsonl | count", "save three users")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let arg = inv.positionals[0]
        guard let input else { throw inv.error("save writes input records: find | save users.csv") }
        // CSV columns follow a `select` before save (when the runtime passes them on), not the table defaults.
        let writer = try fileErrors(at: arg.range) {
            try RecordFileWriter(path: arg.value.displayString, columns: inv.selectedColumns)
        }
        return SaveSource(input, writer, range: arg.range)
    }
}

final class SaveSource: RecordSource {
    let upstream: any RecordSource
    let writer: RecordFileWriter
    let range: SourceRange
    var closed = false

    init(_ upstream: any RecordSource, _ writer: RecordFileWriter, range: SourceRange) {
        self.upstream = upstream
        self.writer = writer
        self.range = range
    }

    func next() async throws -> Record? {
        guard !closed else { return nil }
        guard let r = try await upstream.next() else {
            closed = true
            try fileErrors(at: range) { try writer.close() }
            return nil
        }
        try fileErrors(at: range) { try writer.write(r) }
        return r
    }
}
