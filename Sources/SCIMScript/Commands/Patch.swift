import SCIMClient
import SCIMCore

/// `patch OPS...`: changes attributes of each input user (or of one user by id).
struct PatchCommand: BuiltinCommand {
    let name = "patch"
    let signature = CommandSignature(input: .recordsOrArguments, access: .writes)
        .positional(.id, presence: .withoutInput).required(.patchOperation, repeated: true)
    let summary = "change attributes of each input user (SCIM PATCH)"
    let help = """
        Changes users. OPS are ATTR=VALUE (a SCIM replace) and the words add, replace and remove, which switch \
        the operation for the words that follow: `patch displayName="B. Jensen" remove externalId`. \
        A path may select elements of a multi-valued attribute with a value filter (RFC 7644 §3.5.2): \
        `patch emails[type eq "work"].value=new@example.com`, `patch remove phoneNumbers[type eq "fax"]` \
        (quote it when you like: `'emails[type eq "work"].value'=x`). `email=ADDRESS` sets the work address: \
        under dialect rfc it replaces the value of the work element and keeps the others (a home address \
        stays), or adds a work element when there is none; under ODM, which holds work addresses only, it \
        replaces the list with that one address. The journal keeps the whole attribute as it was, so `undo` \
        puts back every element. Values are typed: true/false/numbers/null \
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
        let body = PatchOperation.body(
            PatchCommand.wireOperations(PatchCommand.resolvingEmail(shown, user: nil, keepOthers: false)))
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
        // Under the RFC dialect `email=` keeps the user's other addresses, so it needs the user's emails.
        let keepsOtherEmails = inv.context.dialect == .rfc
        let perRecord =
            operations.contains { $0.op != .remove && $0.value == nil }
            || (keepsOtherEmails && operations.contains { $0.path == PatchCommand.emailShorthand })
        let fixedBody =
            perRecord
            ? nil : PatchCommand.wireOperations(PatchCommand.resolvingEmail(operations, user: nil, keepOthers: false))
        if inv.context.dialect == .odm {
            let ignored = operations.compactMap(\.path).filter { path in
                let root = PatchCommand.root(of: path).lowercased()
                return !(PatchCommand.odmEditable + ["emails", "email"]).contains { $0.lowercased() == root }
            }
            if !ignored.isEmpty {
                inv.context.warning(
                    "ODM ignores changes to \(ignored.joined(separator: ", ")); it edits only "
                        + (PatchCommand.odmEditable + ["emails"]).joined(separator: ", ")
                        + " (set dialect = rfc for other servers)")
            }
        }
        let client = try inv.context.client()
        let spec = WriteSpec(
            op: "patch", verb: "patched", sendsWrites: true,
            predict: { record in
                (try? PatchCommand.filled(operations, from: record)).map {
                    PatchCommand.apply(
                        PatchCommand.resolvingEmail($0, user: record, keepOthers: keepsOtherEmails), to: record)
                }
            },
            perform: { record in
                guard let id = record["id"]?.stringValue, !id.isEmpty else { throw ScriptError("the record has no id") }
                if let fixedBody { return try await client.patchUser(id: id, operations: fixedBody).attributes }
                var ops = try PatchCommand.filled(operations, from: record)
                if keepsOtherEmails, ops.contains(where: { $0.path == PatchCommand.emailShorthand }) {
                    // A user as the server sent it carries its emails; an id or an imported row is read first.
                    let user = record["meta"] != nil ? record : try await client.getUser(id: id).attributes
                    ops = PatchCommand.resolvingEmail(ops, user: user, keepOthers: true)
                } else {
                    ops = PatchCommand.resolvingEmail(ops, user: nil, keepOthers: false)
                }
                return try await client.patchUser(id: id, operations: PatchCommand.wireOperations(ops)).attributes
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
            let root = PatchCommand.root(of: path).lowercased()
            names.insert(root == "email" ? "emails" : root)
        }
        return names
    }

    /// The attribute a path starts with: `emails` for `emails[type eq "work"].value` or `emails.value`.
    static func root(of path: String) -> String {
        String(path.prefix { $0 != "." && $0 != "[" })
    }

    /// The path `email=ADDRESS` stands for until it is resolved for a user (``resolvingEmail(_:user:keepOthers:)``).
    static let emailShorthand = "email"

    /// The operations with `email=ADDRESS` turned into what is sent. With `keepOthers` (the RFC dialect) and the
    /// user's emails known, the work element's value is replaced and the other elements stay; with no work
    /// element a work address is added (primary when it is the only one). Otherwise (ODM, which holds work
    /// addresses only) the list is replaced by the one work address.
    static func resolvingEmail(_ operations: [PatchOperation], user: Record?, keepOthers: Bool) -> [PatchOperation] {
        operations.map { op in
            guard op.path == emailShorthand, op.op != .remove, let address = op.value?.displayString else { return op }
            guard keepOthers, let user else {
                return PatchOperation(op: op.op, path: "emails", value: AttributeValues.emails(address))
            }
            let emails = user["emails"]?.arrayValue ?? []
            let hasWork = emails.contains { $0.objectValue?["type"]?.stringValue?.lowercased() == "work" }
            if hasWork {
                return PatchOperation(op: .replace, path: #"emails[type eq "work"].value"#, value: .string(address))
            }
            var element = JSONObject([("type", "work"), ("value", .string(address))])
            if emails.isEmpty { element["primary"] = true }
            return PatchOperation(op: .add, path: "emails", value: .array([.object(element)]))
        }
    }

    /// The operations with each value-less add/replace given the record's own value of its attribute.
    static func filled(_ operations: [PatchOperation], from record: Record) throws -> [PatchOperation] {
        try operations.map { op in
            guard op.op != .remove, op.value == nil, let path = op.path else { return op }
            guard let v = record.value(atPath: path) else { throw ScriptError("the record has no \(path)") }
            if path.lowercased() == "email" || path.lowercased() == "emails.value" {
                return PatchOperation(op: op.op, path: emailShorthand, value: .string(v.displayString))
            }
            return PatchOperation(op: op.op, path: path, value: AttributeValues.typed(path, v, quoted: false))
        }
    }

    /// The top-level members of a user the operations change (`nickName`; `name` for `name.givenName`; the
    /// extension's URN for `urn:…:enterprise:2.0:User:employeeNumber`), so the journal keeps them for undo.
    static func topLevelAttributes(_ operations: [PatchOperation]) -> [String] {
        var out: [String] = []
        for op in operations {
            guard let path = op.path,
                let parsed = ValueFilterPath(parsing: path)?.attribute ?? AttributePath(parsing: path)
            else { continue }
            var root = parsed.jsonPath.first ?? parsed.name
            if root.lowercased() == "email" { root = "emails" }
            if !out.contains(where: { $0.lowercased() == root.lowercased() }) { out.append(root) }
        }
        return out
    }

    /// The attributes ODM's PATCH changes (others are ignored).
    static let odmEditable = ["userName", "externalId", "displayName", "active"]

    /// The record as it will be after the operations, for plans.
    static func apply(_ operations: [PatchOperation], to record: Record) -> Record {
        var out = record
        for op in operations {
            guard let path = op.path else { continue }
            if let valuePath = ValueFilterPath(parsing: path) {
                out = valuePath.applying(op.op, value: op.value, to: out)
                continue
            }
            switch op.op {
            case .remove: out.setValue(nil, atPath: path)
            case .add:
                // Adding to a multi-valued attribute appends (RFC 7644 §3.5.2.1).
                if case .array(let old)? = out.value(atPath: path), case .array(let new)? = op.value {
                    out.setValue(.array(old + new), atPath: path)
                } else {
                    out.setValue(op.value, atPath: path)
                }
            case .replace: out.setValue(op.value, atPath: path)
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
            case .flag: continue
            case .assignment(let name):
                guard mode != .remove else {
                    throw inv.error("remove takes attribute names, not ATTR=VALUE (write replace first)", at: arg.range)
                }
                if name.lowercased() == "email" {
                    operations.append(
                        PatchOperation(op: mode, path: emailShorthand, value: .string(arg.value.displayString)))
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
