import SCIMCore

/// `where FILTER`: keeps records matching a SCIM filter, evaluated locally.
struct WhereCommand: Command {
    let name = "where"
    let signature = CommandSignature(output: .sameRecords).required(.filter)
    let summary = "keep records matching a SCIM filter (evaluated locally, every operator)"
    let category = CommandCategory.local
    let help = """
        Keeps the records that match FILTER, evaluated here with the full RFC 7644 operator set: eq ne co sw \
        ew gt ge lt le pr, and or not, parentheses, emails[...] value filters. Attribute names and string \
        comparisons are case-insensitive. No request is sent: use it for what the server cannot filter \
        (ODM supports only eq and and): find | where displayName co "Jen".
        """
    var examples: [CommandExample] {
        [CommandExample(#"find | where displayName co "Jen" and active eq true"#, "filter locally")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        guard let filter = inv.filter else { throw inv.error("where needs a filter: where displayName co \"Jen\"") }
        guard let input else { throw inv.error("where filters input records: find | where ...") }
        return MapSource(input) { filter.matches(.object($0)) ? $0 : nil }
    }
}
