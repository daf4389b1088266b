import SCIMClient
import SCIMCore

/// `patch OPS...`: changes attributes of each input user (or of one user by id).
struct PatchCommand: Command {
    let name = "patch"
    let signature = CommandSignature(input: .recordsOrArguments, access: .writes)
        .positional(.id, presence: .withoutInput).required(.patchOperation, repeated: true)
    let summary = "change attributes of each input user (SCIM PATCH)"
    let category = CommandCategory.server
    let help = """
        Changes users. OPS are ATTR=VALUE (a SCIM replace) and the words add, replace and remove, which switch \
        the operation for the words that follow: `patch displayName="B. Jensen" remove externalId`. \
        `email=ADDRESS` replaces the emails list with one work address. Values are typed: true/false/numbers/null \
        become JSON values, quoted text stays a string. Without input, the first word is the user's id. With \
        input, a bare attribute name takes each record's own value: `import renames.csv | patch displayName` \
        renames every user listed in a CSV of id,displayName.

        Request: PATCH {base_path}/Users/{id} with a PatchOp body, up to `concurrency` at once. Replacements \
        and additions of plain attributes go in one path-less operation, the form every ODM client sends:
          {"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations":[{"op":"replace","value":{"active":false}}]}
        removals go as {"op":"remove","path":"externalId"}.
        ODM edits userName, externalId, displayName and active, and ignores other attributes.
        """
    var examples: [CommandExample] {
        [
            CommandExample(#"find userName eq "bjensen" | patch displayName="Barbara J. Jensen""#, "rename a user"),
            CommandExample(#"find userName eq "bjensen" | patch active=true remove externalId"#, "two changes at once"),
            CommandExample(
                "import examples/data/renames.csv | patch displayName | count",
                "rename the users of a CSV of id,displayName"),
        ]
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        let (id, ops) = try PatchCommand.operations(inv, hasInput: !inv.isFirst)
        let shown = ops.map { op in
            op.op == .remove || op.value != nil
                ? op : PatchOperation(op: op.op, path: op.path, value: .string("<each record's \(op.path ?? "")>"))
        }
        let body = PatchOperation.body(PatchCommand.wireOperations(shown))
        return [
            PlannedRequest(
                "for \(id.map { "user \($0)" } ?? "each input user")",
                try client.userRequest("PATCH", id: id ?? "{id}", body: body))
        ]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        try inv.context.require(.patch, for: "patch", at: inv.stage.nameRange)
        let (id, operations) = try PatchCommand.operations(inv, hasInput: input != nil)
        let upstream: any RecordSource
        if let id {
            upstream = ArraySource([JSONObject([("id", .string(id))])])
        } else if let input {
            upstream = input
        } else {
            throw inv.error("patch needs input users (find ... | patch ...) or an id (patch ID ATTR=VALUE)")
        }
        let fixedBody =
            operations.contains { $0.op != .remove && $0.value == nil }
            ? nil : PatchCommand.wireOperations(operations)
        if inv.context.dialect == .odm {
            let ignored = operations.compactMap(\.path).filter { path in
                !PatchCommand.odmEditable.contains { $0.lowercased() == path.lowercased() }
            }
            if !ignored.isEmpty {
                inv.context.warning(
                    "ODM ignores changes to \(ignored.joined(separator: ", ")); it edits only "
                        + PatchCommand.odmEditable.joined(separator: ", ") + " (set dialect = rfc for other servers)")
            }
        }
        let client = try inv.context.client()
        let spec = WriteSpec(
            op: "patch", verb: "patched", sendsWrites: true,
            predict: { record in
                (try? PatchCommand.filled(operations, from: record)).map { PatchCommand.apply($0, to: record) }
            },
            perform: { record in
                guard let id = record["id"]?.stringValue, !id.isEmpty else { throw ScriptError("the record has no id") }
                let body = try fixedBody ?? PatchCommand.wireOperations(PatchCommand.filled(operations, from: record))
                return try await client.patchUser(id: id, operations: body).attributes
            }, before: WriteSpec.recordOrFetched(client, dialect: inv.context.dialect),
            imageScope: .adding(PatchCommand.topLevelAttributes(operations)))
        return WriteStage(upstream: upstream, context: inv.context, spec: spec, range: inv.stage.range)
    }

    /// The top-level attributes the operations name; `nil` for a schema-qualified path (it could be anything).
    func attributesWritten(by invocation: StageInvocation) -> Set<String>? {
        guard let (_, operations) = try? PatchCommand.operations(invocation, hasInput: true) else { return nil }
        var names: Set<String> = []
        for op in operations {
            guard let path = op.path, !path.contains(":") else { return nil }
            let root = path.prefix { $0 != "." && $0 != "[" }
            names.insert(root.lowercased())
        }
        return names
    }

    /// The operations with each value-less add/replace given the record's own value of its attribute.
    static func filled(_ operations: [PatchOperation], from record: Record) throws -> [PatchOperation] {
        try operations.map { op in
            guard op.op != .remove, op.value == nil, let path = op.path else { return op }
            guard let v = record.value(atPath: path) else { throw ScriptError("the record has no \(path)") }
            if path.lowercased() == "email" || path.lowercased() == "emails.value" {
                return PatchOperation(op: op.op, path: "emails", value: AttributeValues.emails(v.displayString))
            }
            return PatchOperation(op: op.op, path: path, value: AttributeValues.typed(path, v, quoted: false))
        }
    }

    /// The top-level members of a user the operations change (`nickName`; `name` for `name.givenName`; the
    /// extension's URN for `urn:…:enterprise:2.0:User:employeeNumber`), so the journal keeps them for undo.
    static func topLevelAttributes(_ operations: [PatchOperation]) -> [String] {
        var out: [String] = []
        for op in operations {
            guard let path = op.path, let parsed = AttributePath(parsing: path) else { continue }
            var root = parsed.jsonPath.first ?? parsed.name
            if root.lowercased() == "email" { root = "emails" }
            if !out.contains(where: { $0.lowercased() == root.lowercased() }) { out.append(root) }
        }
        return out
    }

    /// The attributes ODM's PATCH changes (others are ignored).
    static let odmEditable = ["userName", "externalId", "displayName", "active"]

    /// The record as it will be after the operations (simple paths only), for plans.
    static func apply(_ operations: [PatchOperation], to record: Record) -> Record {
        var out = record
        for op in operations {
            guard let path = op.path else { continue }
            switch op.op {
            case .remove: out.setValue(nil, atPath: path)
            case .add, .replace: out.setValue(op.value, atPath: path)
            }
        }
        return out
    }

    /// Reads `[ID] OPS...` into an optional id and the operations as written.
    static func operations(_ inv: StageInvocation, hasInput: Bool) throws -> (String?, [PatchOperation]) {
        var id: String?
        var mode = PatchOperation.Op.replace
        var operations: [PatchOperation] = []
        for arg in inv.arguments {
            switch arg.kind {
            case .flag(let f):
                throw inv.error("patch has no option --\(f)", at: arg.range)
            case .assignment(let name):
                guard mode != .remove else {
                    throw inv.error("remove takes attribute names, not ATTR=VALUE (write replace first)", at: arg.range)
                }
                if name.lowercased() == "email" {
                    operations.append(
                        PatchOperation(op: mode, path: "emails", value: AttributeValues.emails(arg.value.displayString))
                    )
                } else {
                    operations.append(
                        PatchOperation(
                            op: mode, path: name, value: AttributeValues.typed(name, arg.value, quoted: arg.quoted)))
                }
            case .positional:
                let word = arg.value.displayString
                if !arg.quoted, let op = PatchOperation.Op(rawValue: word.lowercased()) {
                    mode = op
                } else if mode == .remove {
                    operations.append(PatchOperation(op: .remove, path: word, value: nil))
                } else if !hasInput, id == nil, operations.isEmpty {
                    id = word
                } else if hasInput, !arg.quoted {
                    // A bare attribute name: each input record's own value of it (import renames.csv | patch
                    // displayName). Its value is filled in per record.
                    operations.append(PatchOperation(op: mode, path: word, value: nil))
                } else {
                    throw inv.error("expected ATTR=VALUE, or add/replace/remove (got '\(word)')", at: arg.range)
                }
            }
        }
        guard !operations.isEmpty else {
            throw inv.error("patch needs changes: patch ATTR=VALUE... (e.g. patch active=false)")
        }
        return (id, operations)
    }

    /// The operations as sent: replaces and adds of plain attributes merged into one path-less operation each
    /// (the form ODM's generated clients send); others keep their path.
    static func wireOperations(_ operations: [PatchOperation]) -> [PatchOperation] {
        var result: [PatchOperation] = []
        var merged: [PatchOperation.Op: JSONObject] = [:]
        var order: [PatchOperation.Op] = []
        for op in operations {
            if op.op != .remove, let path = op.path, let value = op.value, PatchCommand.isPlain(path) {
                if merged[op.op] == nil {
                    merged[op.op] = JSONObject()
                    order.append(op.op)
                }
                merged[op.op]?[path] = value
            } else {
                result.append(op)
            }
        }
        let grouped = order.compactMap { op in merged[op].map { PatchOperation(op: op, path: nil, value: .object($0)) }
        }
        return grouped + result
    }

    static func isPlain(_ path: String) -> Bool {
        !path.contains(".") && !path.contains("[") && !path.contains(":")
    }
}
