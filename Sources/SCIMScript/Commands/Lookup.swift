import SCIMClient
import SCIMCore

/// `lookup ATTR` / `lookup ATTR=FIELD`: finds the server's user for each input record by one attribute.
struct LookupCommand: BuiltinCommand {
    let name = "lookup"
    let signature = CommandSignature(access: .reads).required(.attribute, "ATTR[=FIELD]")
    let summary = "find the user for each input record by an attribute (e.g. a CSV of logins)"
    let help = """
        For each input record, finds the one user whose ATTR equals the record's value of ATTR (or of FIELD, with \
        ATTR=FIELD) and passes that user on. Typical: offboarding from a CSV of logins — \
        import leavers.csv | lookup userName | delete. A record with no value, no match or more than one match \
        is reported (and the statement then fails); the others go on.

        Request: GET {base_path}/Users?filter=ATTR eq "VALUE"&startIndex=1&count=2 per record, up to \
        `concurrency` at once. On ODM only active users are found.
        """
    var examples: [CommandExample] {
        [
            CommandExample(
                "import examples/data/logins.csv | lookup userName | count", "find users from a list of logins")
        ]
    }

    /// The attribute to match (parsed as a SCIM attribute path) and the input field that holds its value.
    static func target(_ inv: StageInvocation) throws -> (path: AttributePath, field: String) {
        let arg = inv.arguments[0]
        let field = arg.value.displayString
        var attribute = field
        if case .assignment(let name) = arg.kind { attribute = name }
        // The attribute must be a valid SCIM attribute path: parse it as the left side of a comparison.
        guard case .compare(let path, _, _)? = try? FilterParser.parse("\(attribute) eq 1") else {
            throw inv.error("'\(attribute)' is not an attribute name", at: arg.range)
        }
        return (path, field)
    }

    func requests(for inv: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        let (path, field) = try LookupCommand.target(inv)
        let filter = SCIMFilter.compare(path, .eq, .literal(.string("VALUE")))
        let query = [("filter", filter.description), ("startIndex", "1"), ("count", "2")]
        return [
            PlannedRequest(
                "for each input record, VALUE being its \(field)", client.request("GET", path: "/Users", query: query))
        ]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        // Checks the arguments before the input, so that a bad attribute is reported first.
        let (path, field) = try LookupCommand.target(inv)
        guard let input else { throw inv.error("lookup works on input records: import logins.csv | lookup userName") }
        let client = try inv.context.client()
        let context = inv.context
        return inv.readStage(input, op: "lookup", verb: "found") { record in
            guard let value = record.value(atPath: field), !value.isNull, value.displayString != "" else {
                throw ScriptError("the record has no \(field)")
            }
            let literal: JSONValue = value.stringValue.map { .string($0) } ?? value
            let filter = SCIMFilter.compare(path, .eq, .literal(literal))
            let page = try await client.findUsers(filter: filter.description, count: 2)
            // The server's answer is checked here as find's is: with the attributes' caseExact.
            let matches = page.resources.filter { context.matches(filter, $0.json) }
            switch matches.count {
            case 0: throw ScriptError("no user with \(filter)")
            case 1: return matches[0].attributes
            default: throw ScriptError("\(page.totalResults) users match \(filter); expected one")
            }
        }
    }
}
