import SCIMClient
import SCIMCore

extension Interpreter {
    /// `explain PIPELINE`: how a pipeline parses and which HTTP requests it would send. Sends nothing.
    func explain(_ pipeline: Pipeline, file: SourceFile) async throws -> String {
        let context = makeContext()
        let client = try? self.client()
        var out = "pipeline: \(pipeline.stages.count) stage\(pipeline.stages.count == 1 ? "" : "s")\n"
        for (i, stage) in pipeline.stages.enumerated() {
            if stage.isVariableSource {
                let n = context.session.recordLists[stage.name]?.count
                out += "\(i + 1). $\(stage.name): \(n.map { "\($0) records kept with let" } ?? "no such record list")\n"
                continue
            }
            guard let command = self.command(named: stage.name) else {
                throw ScriptError(unknownCommand(stage.name), range: stage.nameRange)
            }
            let access: CommandSignature.Access = command.isMutating ? .writes : command.signature.access
            let kind = access == .writes ? "sends writes" : access == .reads ? "sends reads" : "local, no request"
            out += "\(i + 1). \(command.name) (\(kind))\n"
            let args = try resolveArguments(stage)
            let filter = try resolveFilter(stage)
            let inv = StageInvocation(
                stage: stage, arguments: args, filter: filter, context: context, isFirst: i == 0,
                mutatesDownstream: false)
            try command.signature.check(inv, name: command.name, hasInput: i > 0)
            if let filter {
                out += "   filter: \(filter)\n   parse tree:\n"
                out += filter.treeDescription().split(separator: "\n").map { "     \($0)\n" }.joined()
            }
            for a in args {
                switch a.kind {
                case .assignment(let n): out += "   \(n) = \(JSONEncoderFast.encode(a.value))\n"
                case .flag(let n): out += "   --\(n) \(a.value.displayString)\n"
                case .positional: out += "   argument: \(JSONEncoderFast.encode(a.value))\n"
                }
            }
            guard access != .none, let client else {
                if access != .none { out += "   (no host set: set host = ... to see the URL)\n" }
                continue
            }
            for planned in try command.requests(for: inv, client: client) {
                out += "   \(planned.label):\n" + describe(planned.request, session: context.session)
            }
        }
        return out
    }

    func describe(_ r: HTTPRequestData, session: Session) -> String {
        var out = "     \(r.method) \(r.url.replacingEvery("%7Bid%7D", with: "{id}"))\n"
        for h in r.maskedHeaders { out += "     \(h.name): \(h.value)\n" }
        if let body = r.body, let json = try? JSONParser.parse(body) {
            out += JSONEncoderFast.pretty(json).split(separator: "\n").map { "     \($0)\n" }.joined()
        }
        return session.scrub(out)
    }
}
