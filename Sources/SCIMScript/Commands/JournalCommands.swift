import SCIMClient
import SCIMCore

/// `journal [N]`: lists recent mutating statements, or the writes of statement N.
struct JournalCommand: BuiltinCommand {
    let name = "journal"
    let signature = CommandSignature(input: .none).optional(.number).flag("limit", .number, "K")
    let summary = "list recent changes (from the write journal), or the writes of statement N"
    let help = """
        Every write scimsh sends is journaled, with the user's userName, externalId, displayName and active \
        (plus the attributes the write names; all of it for a delete under dialect rfc) before and after, in $XDG_STATE_HOME/scimsh/journal.jsonl (else ~/.local/state/scimsh/journal.jsonl; \
        $SCIMSH_JOURNAL overrides, SCIMSH_JOURNAL=off disables). `journal` lists the latest statements that \
        wrote (--limit K, default 20): number, time, host, statement, writes ok, failed and unknown (sent, \
        but the answer was lost: the server may have applied them). `journal N` lists the writes of statement \
        N with their outcome. See `undo`.
        """
    var examples: [CommandExample] { [CommandExample("journal --limit 5", "the last five changes")] }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        guard let journal = inv.context.journalStore else {
            throw inv.error("the journal is off (SCIMSH_JOURNAL=off, or no home folder)")
        }
        let limit = try inv.wholeNumberFlag("limit", minimum: 1) ?? 20
        let entries = try journal.entries(warning: inv.context.warning)
        if let arg = inv.positionals.first {
            let n = try JournalSummary.number(arg, inv)
            let rows = entries.filter { Journal.statementNumber($0) == n && $0["phase"]?.stringValue == "end" }
            guard !rows.isEmpty else { throw inv.error("no statement \(n) in the journal", at: arg.range) }
            // A note (a token refreshed on the way) gets a column when any write of the statement has one.
            let noted = rows.contains { $0["note"] != nil }
            return ArraySource(
                rows.map { e in
                    // Not `id`/`userName`: those would make the table show user columns and hide before/after.
                    var row = JSONObject([
                        ("op", e["op"] ?? .null), ("user", e["userName"] ?? .null), ("user_id", e["id"] ?? .null),
                        ("before", e["before"] ?? .null), ("after", e["after"] ?? .null),
                        ("outcome", e["outcome"] ?? .null),
                    ])
                    if noted { row["note"] = e["note"] ?? .null }
                    return row
                })
        }
        return ArraySource(JournalSummary.statements(entries).suffix(limit).map(\.record))
    }
}

/// Statements in the journal, summarised.
struct JournalSummary {
    var number: Int
    var time: String
    var host: String
    var statement: String
    var ok = 0
    var failed = 0
    /// Writes sent whose answer was lost: the server may or may not have applied them.
    var unknown = 0
    var unfinished = 0

    var record: Record {
        JSONObject([
            ("no", .number(Double(number))), ("time", .string(time)), ("statement", .string(statement)),
            ("ok", .number(Double(ok))), ("failed", .number(Double(failed))), ("unknown", .number(Double(unknown))),
            ("unfinished", .number(Double(unfinished))), ("host", .string(host)),
        ])
    }

    /// A statement number given as an argument (`journal N`, `undo N`): a whole number of at least 1.
    static func number(_ arg: ResolvedArgument, _ inv: StageInvocation) throws -> Int {
        guard let value = arg.value.numberValue ?? Double(arg.value.displayString), let n = Journal.wholeNumber(value)
        else {
            throw inv.error(
                "\(inv.stage.name) takes a statement number (a whole number from 1, see: journal), not "
                    + "'\(arg.value.displayString)'", at: arg.range)
        }
        return n
    }

    /// The statements that wrote, in the order of their first write (`statement` lines only claim a number).
    static func statements(_ entries: [JSONObject]) -> [JournalSummary] {
        var byNumber: [Int: JournalSummary] = [:]
        var order: [Int] = []
        var open: [Int: Int] = [:]
        for e in entries {
            guard let n = Journal.statementNumber(e), e["phase"]?.stringValue != "statement" else { continue }
            if byNumber[n] == nil {
                byNumber[n] = JournalSummary(
                    number: n, time: e["time"]?.stringValue ?? "", host: e["host"]?.stringValue ?? "",
                    statement: e["statement"]?.stringValue ?? "")
                order.append(n)
            }
            if e["phase"]?.stringValue == "begin" {
                open[n, default: 0] += 1
            } else {
                open[n, default: 0] -= 1
                switch e["outcome"]?.stringValue {
                case "ok": byNumber[n]?.ok += 1
                case "not sent": break  // withdrawn by Ctrl-C before it left: neither done nor failed
                case let o? where o.hasPrefix("unknown"): byNumber[n]?.unknown += 1
                default: byNumber[n]?.failed += 1
                }
            }
        }
        return order.compactMap { n in
            guard var s = byNumber[n] else { return nil }
            s.unfinished = max(0, open[n] ?? 0)
            return s
        }
    }
}

/// `undo [N]`: reverts the last mutating statement, or statement N, from the journal.
struct UndoCommand: BuiltinCommand {
    let name = "undo"
    let signature = CommandSignature(input: .none, access: .writes).optional(.number)
    let summary = "revert the last change (or statement N) from the write journal"
    let help = """
        Reverts the writes of the latest statement in the journal that wrote (or of statement N, see \
        `journal`): each changed user gets back the attributes the statement changed (and only those), \
        deactivated users are reactivated, users it created are deleted again (ODM: deactivated), and a user an \
        RFC 7644 server really deleted is created again from the journal, with a new id. It works after a restart and for users that \
        find can no longer see (ODM hides inactive users), because the journal keeps their ids. Writes whose \
        outcome is unknown (scimsh was killed mid-request, or the answer was lost and the retry refused: \
        `journal N` shows `unknown`) are reverted too, after reading the user as it is now, so only what \
        differs goes back; failed and not-sent ones are skipped. Undo is itself journaled, so `undo` twice redoes.

        Request: PATCH {base_path}/Users/{id} with replace (and remove for attributes that were absent), \
        DELETE for created users, POST {base_path}/Users for deleted ones. Run it against the same host as the statement.
        """
    var examples: [CommandExample] {
        [CommandExample(#"find userName eq "bjensen" | patch displayName="B"; undo"#, "put the name back")]
    }

    /// The PATCH that puts a user back from what the statement left (`after`) to how it was (`before`): only the
    /// attributes that differ, replaced with their old values, and removed where they were absent. When the
    /// outcome is unknown (no after-image), every attribute of the before-image is put back.
    static func operations(before: JSONObject, after: JSONObject?) -> [PatchOperation] {
        let serverOwned = ["id", "meta", "schemas"]
        var values = JSONObject()
        var removals: [PatchOperation] = []
        guard let after else {
            for (k, v) in before where !serverOwned.contains(k.lowercased()) { values[k] = v }
            if before["externalId"] == nil {
                removals.append(PatchOperation(op: .remove, path: "externalId", value: nil))
            }
            return [PatchOperation(op: .replace, path: nil, value: .object(values))] + removals
        }
        var keys = before.keys
        for k in after.keys where before[k] == nil { keys.append(k) }
        for k in keys where !serverOwned.contains(k.lowercased()) && before[k] != after[k] {
            if let b = before[k] {
                values[k] = b
            } else {
                removals.append(PatchOperation(op: .remove, path: k, value: nil))
            }
        }
        return (values.isEmpty ? [] : [PatchOperation(op: .replace, path: nil, value: .object(values))]) + removals
    }

    /// The statement to undo, one record per user to put back (`id`, `op`, `userName`, `before`, and `left_in`,
    /// the state the statement left it in), and how many of its creates never got an answer.
    static func reverts(_ inv: StageInvocation) throws -> (target: JournalSummary, reverts: [Record], lost: Int) {
        guard let journal = inv.context.journalStore else {
            throw inv.error("the journal is off (SCIMSH_JOURNAL=off, or no home folder), so there is nothing to undo")
        }
        let entries = try journal.entries(warning: inv.context.warning)
        let statements = JournalSummary.statements(entries)
        let target: JournalSummary
        if let arg = inv.positionals.first {
            let n = try JournalSummary.number(arg, inv)
            guard let s = statements.first(where: { $0.number == n }) else {
                throw inv.error("no statement \(arg.value.displayString) in the journal (see: journal)", at: arg.range)
            }
            target = s
        } else {
            let current = inv.context.statement?.number
            guard
                let s = statements.last(where: { $0.number != current && $0.ok + $0.unknown + $0.unfinished > 0 })
            else {
                throw inv.error("nothing to undo: the journal has no changes")
            }
            target = s
        }
        let host = inv.context.session.clientConfiguration()?.baseURL ?? ""
        guard target.host == host else {
            throw inv.error(
                "statement \(target.number) ran against \(target.host), not \(host); set host to that first")
        }
        // One revert per user: its earliest before-image in the statement, for every write that may have reached
        // the server (outcome ok, or unknown because scimsh stopped mid-request). Failed writes changed nothing.
        let lines = entries.filter { Journal.statementNumber($0) == target.number }
        var ended = Set<String>()
        var reverts: [Record] = []
        var seen = Set<String>()
        // The state each user was left in by the statement (its latest successful write), the undo's own
        // before-image when the user cannot be read back (ODM's GET does not see deactivated users).
        var leftIn: [String: JSONValue] = [:]
        for e in lines where e["phase"]?.stringValue == "end" && e["outcome"]?.stringValue == "ok" {
            if e["id"]?.stringValue != nil, let after = e["after"], after.objectValue != nil {
                leftIn[GroupUndo.key(e)] = after
            }
        }
        func add(_ e: JSONObject) {
            // A user's writes and its memberships in groups are reverted separately (GroupUndo.key).
            guard let id = e["id"]?.stringValue, seen.insert(GroupUndo.key(e)).inserted else { return }
            // Start from the state the statement left the user in, so plans show the real change.
            let left = leftIn[GroupUndo.key(e)]
            var r = left?.objectValue ?? JSONObject()
            r["id"] = .string(id)
            r["op"] = e["op"] ?? .null
            if r["userName"] == nil, let u = e["userName"] { r["userName"] = u }
            r["before"] = e["before"] ?? .null
            if let touches = e["touches"] { r["touches"] = touches }
            if let left { r["left_in"] = left }
            reverts.append(r)
        }
        for e in lines where e["phase"]?.stringValue == "end" {
            if e["id"]?.stringValue != nil { ended.insert(GroupUndo.key(e)) }
            let outcome = e["outcome"]?.stringValue ?? ""
            if outcome == "ok" || outcome.hasPrefix("unknown") { add(e) }
        }
        var createBegins = 0
        var createEnds = 0
        for e in lines where e["op"]?.stringValue == "create" {
            if e["phase"]?.stringValue == "begin" {
                createBegins += 1
            } else if e["id"] != nil || !(e["outcome"]?.stringValue ?? "").hasPrefix("unknown") {
                createEnds += 1
            }
        }
        // A create's begin line has no id yet (the server assigns it); only its end line can be undone. One whose
        // answer was lost has none either: the server may have made the user.
        let unknownCreates = max(0, createBegins - createEnds)
        for e in lines where e["phase"]?.stringValue == "begin" {
            guard e["id"]?.stringValue != nil else { continue }
            if !ended.contains(GroupUndo.key(e)) { add(e) }
        }
        return (target, reverts, unknownCreates)
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        try UndoCommand.reverts(inv).reverts.compactMap { r in
            guard let id = r["id"]?.stringValue else { return nil }
            let who = "for user \(r["userName"]?.stringValue ?? id)"
            guard let before = r["before"]?.objectValue else {
                return r["op"]?.stringValue == "create"
                    ? PlannedRequest(who, try client.userRequest("DELETE", id: id)) : nil
            }
            let ops = UndoCommand.operations(before: before, after: r["left_in"]?.objectValue)
            guard !ops.isEmpty else { return nil }
            return PlannedRequest(who, try client.userRequest("PATCH", id: id, body: PatchOperation.body(ops)))
        }
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let (target, reverts, unknownCreates) = try UndoCommand.reverts(inv)
        inv.context.message("undoing statement \(target.number): \(target.statement)")
        if unknownCreates > 0 {
            inv.context.warning("\(unknownCreates) create(s) of that statement never got an answer; check them by hand")
        }
        // Reverting a change is a PATCH (only a create is reverted with a DELETE).
        if reverts.contains(where: { $0["before"]?.objectValue != nil }) {
            try inv.context.require(.patch, for: "undo", at: inv.stage.nameRange)
        }
        let client = try inv.context.client()
        let context = inv.context
        let number = target.number
        let removes = inv.context.dialect == .rfc
        // The undo's own journal keeps every attribute it may put back, so `undo` twice redoes.
        var touched: [String] = []
        for r in reverts {
            for image in [r["before"], r["left_in"]] {
                for k in image?.objectValue?.keys ?? [] where !touched.contains(k) { touched.append(k) }
            }
        }
        let spec = WriteSpec(
            op: "undo", verb: "reverted", sendsWrites: true,
            predict: { r in
                var out = r
                if let b = r["before"]?.objectValue { for (k, v) in b { out[k] = v } } else { out["active"] = false }
                out["before"] = nil
                out["op"] = nil
                out["left_in"] = nil
                out["touches"] = nil
                return out
            },
            perform: { r in
                if GroupUndo.handles(r) { return try await GroupUndo.revert(r, client: client, context: context) }
                guard let id = r["id"]?.stringValue else { throw ScriptError("the journal entry has no id") }
                let name = r["userName"]?.stringValue ?? id
                guard let before = r["before"]?.objectValue else {
                    guard r["op"]?.stringValue == "create" else {
                        // Not created by the statement, and no record of how it was: a DELETE would be a guess.
                        throw ScriptError(
                            "the journal has no before-image of this user (it could not be read before the write: "
                                + "ODM hides deactivated users), so it cannot be restored automatically")
                    }
                    // Created by the statement: take it away again (ODM deactivates).
                    try await client.deleteUser(id: id)
                    context.message(
                        "\(removes ? "deleted" : "deactivated") user \(name), which statement \(number) created")
                    let gone = JSONObject([("id", .string(id)), ("userName", r["userName"] ?? .null)])
                    return DeleteCommand.after(gone, deletes: removes)
                }
                // Where the statement's outcome is unknown (its answer lost, or scimsh stopped), the user as it is
                // now stands for the state the statement left: only what differs from the journal goes back.
                var after = r["left_in"]?.objectValue
                if after == nil, let current = try? await client.getUser(id: id).attributes {
                    let touches = r["touches"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    after = Journal.image(current, scope: .editable(plus: touches))
                }
                let ops = UndoCommand.operations(before: before, after: after)
                guard !ops.isEmpty else { return r["left_in"]?.objectValue ?? before }
                do {
                    return try await client.patchUser(id: id, operations: ops).attributes
                } catch let e as SCIMError where e.status == 404 && r["op"]?.stringValue == "delete" {
                    // The server removed the user (RFC 7644 §3.6): create it again from the journal's image.
                    guard before["userName"]?.stringValue != nil else {
                        throw ScriptError(
                            "the server no longer has this user, and the journal has too little of it to create it"
                                + " again (no userName)")
                    }
                    let created = try await client.createUser(CreateCommand.user(from: before, overrides: JSONObject()))
                    let newId = created.attributes["id"]?.stringValue ?? "(none given)"
                    context.message("re-created user \(name) with a new id \(newId) (was \(id))")
                    return created.attributes
                }
            },
            before: { r, _ in
                guard let id = r["id"]?.stringValue else { return .none }
                if GroupUndo.handles(r), var image = r["left_in"]?.objectValue ?? r["before"]?.objectValue {
                    image["id"] = .string(id)
                    return .user(image)
                }
                if let current = try? await client.getUser(id: id).attributes { return .user(current) }
                // Deactivated users cannot be read on ODM: they are as the undone statement left them.
                guard var image = r["left_in"]?.objectValue else { return .none }
                image["id"] = .string(id)
                return .user(image)
            }, imageScope: .adding(touched), noun: GroupUndo.noun(reverts))
        return WriteStage(upstream: ArraySource(reverts), context: inv.context, spec: spec, range: inv.stage.range)
    }
}
