import SCIMCore

/// `select ATTR...`: keeps only some attributes.
struct SelectCommand: Command {
    let name = "select"
    let signature = CommandSignature(output: .columns).required(.attribute, repeated: true)
    let summary = "keep only these attributes (dotted paths like emails.value work)"
    let category = CommandCategory.local
    let help = """
        Keeps only the named attributes of each record, in the order given; they become the columns of table \
        and csv output. Dotted paths reach inside: meta.created, name.familyName, emails.value (the values of \
        every email). Missing attributes are left out of that record.
        """
    var examples: [CommandExample] {
        [CommandExample("find | select userName emails.value meta.created", "three columns")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let paths = try inv.arguments.map { arg -> String in
            guard case .positional = arg.kind else { throw inv.error("select takes attribute names", at: arg.range) }
            return arg.value.displayString
        }
        guard !paths.isEmpty else { throw inv.error("select needs attribute names: select userName displayName") }
        guard let input else { throw inv.error("select works on input records: find | select ...") }
        return MapSource(input) { record in
            var out = JSONObject()
            for p in paths {
                if let v = record.value(atPath: p) {
                    out[p] = v
                } else if p.lowercased() == "email", let e = SCIMUser(attributes: record).email {
                    out[p] = .string(e)  // the primary email, as the table's email column shows it
                }
            }
            return out
        }
    }
}
