import SCIMCore

/// `where FILTER`: keeps records matching a SCIM filter, evaluated locally.
struct WhereCommand: BuiltinCommand {
    let name = "where"
    let signature = CommandSignature(output: .sameRecords).required(.filter)
    let summary = "keep records matching a SCIM filter (evaluated locally, every operator)"
    let help = """
        Keeps the records that match FILTER, evaluated here with the full RFC 7644 operator set: eq ne co sw \
        ew gt ge lt le pr, and or not, parentheses, emails[...] value filters. Attribute names are case-insensitive; strings \
        compare ignoring case except, under dialect rfc, the attributes RFC 7643 makes caseExact (id, \
        externalId, meta.version). Values compare by type: numbers numerically, dateTimes as instants, and a \
        boolean or number written as text matches as that type (`active eq "true"` is `active eq true`). No request is sent: use it for what the server cannot filter \
        (ODM supports only eq and and): find | where displayName co "Jen".
        """
    var examples: [CommandExample] {
        [CommandExample(#"find | where displayName co "Jen" and active eq true"#, "filter locally")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        guard let filter = inv.filter, let input else {
            throw inv.error("where filters input records: find | where ...")
        }
        return MapSource(input) { [context = inv.context] in context.matches(filter, .object($0)) ? $0 : nil }
    }
}
