import SCIMClient
import SCIMCore

extension Interpreter {
    /// Builds and drains the stages. With `collect`, returns the records; otherwise prints them in the `output`
    /// format (unless the pipeline ends in an output stage) and returns nothing.
    func runPipeline(_ pipeline: Pipeline, collect: Bool, statement: String = "") async throws -> [Record] {
        let commands = pipeline.stages.map { $0.isVariableSource ? nil : command(named: $0.name) }
        var context = makeContext(statement: statement, writes: commands.contains { $0?.isMutating ?? false })
        if context.discovery == nil, commands.contains(where: { ($0?.signature.access ?? .none) != .none }) {
            context.discovery = await discovery()
        }
        var source = try buildStages(pipeline, context: context)
        let last = commands.last ?? nil
        if !collect, !(last?.isOutput ?? false) {
            let format = OutputFormat(rawValue: context.session.string("output")?.lowercased() ?? "table") ?? .table
            source = OutputStage(
                format: format, columns: selectedColumns(pipeline), upstream: source, context: context,
                bare: format == .table && (last?.printsBareValue ?? false))
        }
        var records: [Record] = []
        while let r = try await source.next() {
            if collect { records.append(r) }
        }
        if Task.isCancelled { throw CancellationError() }
        if context.mutations.failedCount > 0 { throw StatementFailed() }
        return records
    }

    /// The attributes of the last `select`, when only stages that keep record shapes follow it: they are the
    /// columns of table and csv output (even for user records).
    func selectedColumns(_ pipeline: Pipeline) -> [String]? {
        func output(_ stage: Stage) -> CommandSignature.Output? {
            stage.isVariableSource ? nil : command(named: stage.name)?.signature.output
        }
        guard let i = pipeline.stages.lastIndex(where: { output($0) == .columns }) else { return nil }
        // Stages that pass records on unchanged, and the printing stage at the end, keep the columns.
        for stage in pipeline.stages[(i + 1)...] where output(stage) != .sameRecords && output(stage) != .printed {
            return nil
        }
        let columns = pipeline.stages[i].arguments.compactMap { arg -> String? in
            guard case .positional(let e) = arg.kind else { return nil }
            return try? resolve(e).displayString
        }
        return columns.isEmpty ? nil : columns
    }

    /// Builds the chain of running stages for a pipeline.
    func buildStages(_ pipeline: Pipeline, context: PipelineContext) throws -> any RecordSource {
        var source: (any RecordSource)?
        let commands: [(any Command)?] = try pipeline.stages.enumerated().map { (i, stage) throws -> (any Command)? in
            if stage.isVariableSource {
                guard i == 0 else {
                    throw ScriptError(
                        "$\(stage.name) can only be the first stage of a pipeline", range: stage.range)
                }
                return nil
            }
            guard let c = command(named: stage.name) else {
                throw ScriptError(unknownCommand(stage.name), range: stage.nameRange)
            }
            return c
        }
        let lastMutating = commands.lastIndex { $0?.isMutating ?? false }
        if let firstWrite = commands.firstIndex(where: { $0?.isMutating ?? false }),
            let limit = commands[(firstWrite + 1)...].first(where: { $0?.signature.limitsInput ?? false }) ?? nil
        {
            // The write stage works ahead of what `first` takes, so `first` cannot limit the writes.
            context.warning(
                "'\(limit.name)' after '\(commands[firstWrite]?.name ?? "")' limits what is passed on, not what is "
                    + "changed: put it before the write (find | first N | \(commands[firstWrite]?.name ?? ""))")
        }
        for (i, stage) in pipeline.stages.enumerated() {
            guard let command = commands[i] else {
                source = try variableSource(stage)
                continue
            }
            if command.isSourceOnly, i > 0 {
                throw ScriptError(
                    "'\(command.name)' does not read input, so it must be the first stage", range: stage.nameRange)
            }
            if command.isOutput, i < pipeline.stages.count - 1 {
                throw ScriptError(
                    "'\(command.name)' prints records and passes none on, so it must be the last stage",
                    range: stage.nameRange)
            }
            let filter = try resolveFilter(stage)
            if let filter { context.warnUnknownAttributes(filter.features.attributePaths, in: command.name) }
            var invocation = StageInvocation(
                stage: stage, arguments: try resolveArguments(stage), filter: filter,
                context: context, isFirst: i == 0, mutatesDownstream: (lastMutating ?? -1) > i)
            if command.signature.writesAttributes {
                context.warnUnknownAttributes(
                    written: invocation.arguments.compactMap {
                        guard case .assignment(let name) = $0.kind else { return nil }
                        return name
                    }, in: command.name)
            }
            if invocation.mutatesDownstream, command.isSourceOnly {
                invocation.writtenDownstream = writtenAttributes(after: i, pipeline, commands, context)
            }
            invocation.selectedColumns = selectedColumns(
                Pipeline(stages: Array(pipeline.stages[...i]), range: pipeline.range))
            try command.signature.check(invocation, name: command.name, hasInput: source != nil)
            source = try command.makeStage(invocation, input: source)
        }
        return source ?? EmptySource()
    }

    /// What the mutating stages after stage `i` can change, or `nil` when one of them cannot say (or its
    /// arguments do not resolve yet; the stage itself reports that when it is built).
    func writtenAttributes(
        after i: Int, _ pipeline: Pipeline, _ commands: [(any Command)?], _ context: PipelineContext
    ) -> Set<String>? {
        var written: Set<String> = []
        for j in (i + 1)..<pipeline.stages.count {
            guard let command = commands[j], command.isMutating else { continue }
            let stage = pipeline.stages[j]
            let arguments: [ResolvedArgument]
            let filter: SCIMFilter?
            do {
                arguments = try resolveArguments(stage)
                filter = try resolveFilter(stage)
            } catch {
                return nil
            }
            let invocation = StageInvocation(
                stage: stage, arguments: arguments, filter: filter, context: context, isFirst: false,
                mutatesDownstream: false)
            guard let attributes = command.attributesWritten(by: invocation) else { return nil }
            written.formUnion(attributes)
        }
        return written
    }

    func variableSource(_ stage: Stage) throws -> any RecordSource {
        let session = state.current
        if let records = session.recordLists[stage.name] { return ArraySource(records) }
        if session.value(stage.name) != nil {
            throw ScriptError(
                "$\(stage.name) holds a value, not records; bind records with: let \(stage.name) = find ...",
                range: stage.range)
        }
        throw ScriptError(
            "unknown variable '$\(stage.name)' (bind records with: let \(stage.name) = find ...)", range: stage.range)
    }

    func resolveArguments(_ stage: Stage) throws -> [ResolvedArgument] {
        try stage.arguments.map { arg in
            func quoted(_ e: Expr) -> Bool { if case .string = e { true } else { false } }
            switch arg.kind {
            case .positional(let e):
                return ResolvedArgument(kind: .positional, value: try resolve(e), quoted: quoted(e), range: arg.range)
            case .assignment(let name, let e):
                return ResolvedArgument(
                    kind: .assignment(name), value: try resolve(e), quoted: quoted(e), range: arg.range)
            case .flag(let name, let e):
                let v = try e.map { try resolve($0) } ?? .bool(true)
                return ResolvedArgument(kind: .flag(name), value: v, quoted: e.map(quoted) ?? false, range: arg.range)
            }
        }
    }

    func resolveFilter(_ stage: Stage) throws -> SCIMFilter? {
        guard let filter = stage.filter else { return nil }
        return try filter.resolvingVariables { name in
            try self.variable(name, range: stage.filterRange)
        }
    }
}

/// The stage that prints records (explicit `table`, `json`, ... or the implicit one at the end of a pipeline).
final class OutputStage: RecordSource {
    let upstream: any RecordSource
    var writer: any RecordWriter
    let context: PipelineContext
    var count = 0
    var done = false
    /// Whether each record's values are printed bare, one line each, without a table or a record count.
    let bare: Bool

    init(
        format: OutputFormat, columns: [String]?, upstream: any RecordSource, context: PipelineContext,
        bare: Bool = false
    ) {
        self.upstream = upstream
        self.writer = bare ? BareValueWriter() : RecordWriters.make(format, columns: columns, color: false)
        self.context = context
        self.bare = bare
    }

    func next() async throws -> Record? {
        guard !done else { return nil }
        do {
            // The mask is built once per pipeline, not per record (this is the hot path of every listing).
            let mask = context.session.secretMask
            while let r = try await upstream.next() {
                count += 1
                // Mask secrets in the values before formatting, so column widths fit what is shown.
                let text = writer.write(mask.isEmpty ? r : OutputStage.masking(r, mask))
                if !text.isEmpty { context.sink.writeData(mask.apply(text)) }
            }
        } catch {
            flush(failed: true)
            throw error
        }
        flush(failed: false)
        return nil
    }

    static func masking(_ record: Record, _ secrets: SecretMask) -> Record {
        // The usual record holds no secret: check before copying it.
        guard record.contains(where: { holdsSecret($0.value, secrets) }) else { return record }
        var out = JSONObject()
        for (k, v) in record { out[k] = masking(v, secrets) }
        return out
    }

    static func holdsSecret(_ v: JSONValue, _ secrets: SecretMask) -> Bool {
        switch v {
        case .string(let s): return secrets.matches(s)
        case .array(let a): return a.contains { holdsSecret($0, secrets) }
        case .object(let o): return o.contains { holdsSecret($0.value, secrets) }
        default: return false
        }
    }

    static func masking(_ v: JSONValue, _ secrets: SecretMask) -> JSONValue {
        switch v {
        case .string(let s): return .string(secrets.apply(s))
        case .array(let a): return .array(a.map { masking($0, secrets) })
        case .object(let o): return .object(masking(o, secrets))
        default: return v
        }
    }

    func flush(failed: Bool) {
        guard !done else { return }
        done = true
        let tail = writer.finish()
        if !tail.isEmpty { context.sink.writeData(context.session.scrub(tail)) }
        if !failed, !bare, context.interactive || count == 0 {
            context.sink.writeMessage("(\(count) record\(count == 1 ? "" : "s"))\n")
        }
    }
}

/// Writes each record's values on a line of their own, as text (`count` at the end of a pipeline: `6`).
struct BareValueWriter: RecordWriter {
    mutating func write(_ record: Record) -> String {
        record.map { $0.value.displayString + "\n" }.joined()
    }
    mutating func finish() -> String { "" }
}
