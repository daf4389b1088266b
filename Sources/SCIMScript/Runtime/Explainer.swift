import SCIMClient
import SCIMCore

/// `explain PIPELINE`: how a pipeline parses and which HTTP requests it would send. Sends nothing.
struct Explainer {
    let interpreter: Interpreter

    func explain(_ pipeline: Pipeline, file: SourceFile) async throws -> String {
        let context = interpreter.makeContext()
        let client = try? interpreter.client()
        var out = "pipeline: \(pipeline.stages.count) stage\(pipeline.stages.count == 1 ? "" : "s")\n"
        for (i, stage) in pipeline.stages.enumerated() {
            if stage.isVariableSource {
                let n = context.session.recordLists[stage.name]?.count
                out += "\(i + 1). $\(stage.name): \(n.map { "\($0) records kept with let" } ?? "no such record list")\n"
                continue
            }
            guard let command = interpreter.command(named: stage.name) else {
                throw ScriptError("unknown command '\(stage.name)'", range: stage.nameRange)
            }
            let kind =
                command.isMutating ? "sends writes" : command.category == .server ? "sends reads" : "local, no request"
            out += "\(i + 1). \(command.name) (\(kind))\n"
            let args = try interpreter.resolveArguments(stage)
            let filter = try interpreter.resolveFilter(stage)
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
            guard command.category == .server, let client else {
                if command.category == .server { out += "   (no host set: set host = ... to see the URL)\n" }
                continue
            }
            let inv = StageInvocation(
                stage: stage, arguments: args, filter: filter, context: context, isFirst: i == 0,
                mutatesDownstream: false)
            for (label, request) in try requests(command.name, inv, client: client, hasInput: i > 0) {
                out += "   \(label):\n" + describe(request, session: context.session)
            }
        }
        return out
    }

    func requests(_ name: String, _ inv: StageInvocation, client: SCIMClient, hasInput: Bool) throws
        -> [(String, HTTPRequestData)]
    {
        let page = inv.context.pageSize
        switch name {
        case "find":
            var q: [(String, String)] = []
            if let f = inv.filter { q.append(("filter", f.description)) }
            q.append(("startIndex", "1"))
            q.append(("count", String(page)))
            return [
                (
                    "first page (then startIndex=\(page + 1), ... while more remain)",
                    client.request("GET", path: "/Users", query: q)
                )
            ]
        case "get":
            let ids = inv.positionals.map { $0.value.displayString }
            return try (ids.isEmpty ? ["{id}"] : ids).map { ("for user \($0)", try client.userRequest("GET", id: $0)) }
        case "create":
            var o = JSONObject()
            for a in inv.arguments {
                if case .assignment(let n) = a.kind { o[n] = a.value }
            }
            let user = CreateCommand.user(from: JSONObject(), overrides: o)
            return [
                (
                    hasInput ? "for each input record" : "request",
                    client.request("POST", path: "/Users", body: user.json)
                )
            ]
        case "patch":
            let (id, ops) = try PatchCommand.operations(inv, hasInput: hasInput)
            let shown = ops.map { op in
                op.op == .remove || op.value != nil
                    ? op : PatchOperation(op: op.op, path: op.path, value: .string("<each record's \(op.path ?? "")>"))
            }
            let body = PatchOperation.body(
                PatchCommand.wireOperations(PatchCommand.resolvingEmail(shown, user: nil, keepOthers: false)))
            return [
                (
                    "for \(id.map { "user \($0)" } ?? "each input user")",
                    try client.userRequest("PATCH", id: id ?? "{id}", body: body)
                )
            ]
        case "delete", "deactivate":
            let ids = inv.positionals.map { $0.value.displayString }
            return try (ids.isEmpty ? ["{id}"] : ids).map {
                ("for user \($0)", try client.userRequest("DELETE", id: $0))
            }
        default:
            return []
        }
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
