import SCIMCore

/// `select ATTR...`: keeps only some attributes.
struct SelectCommand: BuiltinCommand {
    let name = "select"
    let signature = CommandSignature(output: .columns).required(.attribute, repeated: true)
    let summary = "keep only these attributes (dotted paths like emails.value work)"
    let help = """
        Keeps only the named attributes of each record, in the order given; they become the columns of table \
        and csv output. Dotted paths reach inside: meta.created, name.familyName, emails.value (the values of \
        every email). Missing attributes are left out of that record.
        """
    var examples: [CommandExample] {
        [CommandExample("find | select userName emails.value meta.created", "three columns")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let paths = inv.positionals.map { $0.value.displayString }
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
