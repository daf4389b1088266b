// embed-example — a Swift program that embeds the scimsh interpreter and adds its own command.
//
// Build and run:  swift build --product embed-example && .build/debug/embed-example
//
// It starts the ODM-compatible sandbox on a free port, creates an `Interpreter` whose output goes to a
// `CapturingSink`, points it at the sandbox with `setVariable`, registers `domain-count` (users per email
// domain) and `copy-attribute` (a write), runs a pipeline that prints through the interpreter's own formatter,
// reads the same results back as values with `evaluate`, and shows that its own write command is explained,
// completed and dry-run like `patch`, because each command declares one `CommandSignature`. Everything goes to
// stdout. Exit status 0 on success, 1 when a step fails.
//
// Against a real ODM, set host and token the same way (keep the token out of the source):
//     interpreter.setVariable("host", .string("https://odm.example.com"))
//     interpreter.setVariable("token", .string(ProcessInfo.processInfo.environment["ODM_TOKEN"] ?? ""))

import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMScript

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `domain-count`: counts the input users per email domain and passes on one record per domain,
/// `{domain, users}`, most users first (then by domain).
struct DomainCountCommand: Command {
    let name = "domain-count"
    // Reads input records, passes new ones on, sends no request.
    let signature = CommandSignature()
    let summary = "count users per email domain (one record per domain)"
    let help = """
        Counts the input users per domain of their email addresses (the part after '@', lower-cased) and \
        passes on one record {domain, users} per domain, most users first. A user with addresses in two \
        domains counts in both; a user without an email counts under "(none)". Sends no requests.
        """
    var examples: [CommandExample] { [CommandExample("find | domain-count", "users per email domain")] }

    func makeStage(_ invocation: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        guard invocation.arguments.isEmpty else { throw invocation.error("domain-count takes no arguments") }
        guard let input else { throw invocation.error("domain-count counts input users: find | domain-count") }
        return DomainCountSource(input)
    }
}

/// `copy-attribute FROM TO`: copies one attribute of each input user into another with a SCIM PATCH
/// (`find | copy-attribute userName externalId`). Its signature says it takes two attributes and writes, so
/// `explain`, completion, dry runs, the confirmation plan and the journal treat it as they treat `patch`.
struct CopyAttributeCommand: Command {
    let name = "copy-attribute"
    let signature = CommandSignature(access: .writes).required(.attribute, "FROM").required(.attribute, "TO")
    let summary = "copy an attribute of each input user into another (SCIM PATCH)"
    let help = """
        Sets TO to the value of FROM for each input user. Request: PATCH {base_path}/Users/{id} with \
        {"op":"replace","value":{TO: VALUE}}. ODM edits userName, externalId, displayName and active only.
        """
    var examples: [CommandExample] {
        [CommandExample(#"find userName eq "bjensen" | copy-attribute userName externalId"#, "externalId = login")]
    }

    /// The two attribute names.
    static func attributes(_ invocation: StageInvocation) throws -> (from: String, to: String) {
        let names = invocation.positionals.map(\.value.displayString)
        guard names.count == 2, invocation.arguments.count == 2 else {
            throw invocation.error("copy-attribute takes two attributes: copy-attribute FROM TO")
        }
        return (names[0], names[1])
    }

    func requests(for invocation: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        let (from, to) = try Self.attributes(invocation)
        let value = JSONObject([(to, .string("<each record's \(from)>"))])
        let body = PatchOperation.body([PatchOperation(op: .replace, path: nil, value: .object(value))])
        return [PlannedRequest("for each input user", try client.userRequest("PATCH", id: "{id}", body: body))]
    }

    /// A `find` before it pages so that no user is skipped when its filter tests TO.
    func attributesWritten(by invocation: StageInvocation) -> Set<String>? {
        guard let to = try? Self.attributes(invocation).to, !to.contains(":") else { return nil }
        return [String(to.prefix { $0 != "." }).lowercased()]
    }

    func makeStage(_ invocation: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let (from, to) = try Self.attributes(invocation)
        guard let input else { throw invocation.error("copy-attribute changes input users: find | copy-attribute …") }
        let client = try invocation.context.client()
        return try invocation.writeStage(
            input, operation: "copy", pastTense: "copied",
            predict: { user in
                var after = user
                after[to] = user.value(atPath: from)
                return after
            },
            perform: { user in
                guard let id = user["id"]?.stringValue, let value = user.value(atPath: from) else {
                    throw ScriptError("the user has no id or no \(from)")
                }
                let change = PatchOperation(op: .replace, path: nil, value: .object(JSONObject([(to, value)])))
                return try await client.patchUser(id: id, operations: [change]).attributes
            })
    }
}

/// The running `domain-count` stage: reads all input, then hands out the counts.
final class DomainCountSource: RecordSource {
    private let upstream: any RecordSource
    private var results: [Record]?

    init(_ upstream: any RecordSource) { self.upstream = upstream }

    func next() async throws -> Record? {
        if results == nil {
            var counts: [String: Int] = [:]
            while let user = try await upstream.next() {
                for domain in Set(Self.domains(of: user)) { counts[domain, default: 0] += 1 }
            }
            results = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { domain, n in
                JSONObject([("domain", .string(domain)), ("users", .number(Double(n)))])
            }
        }
        guard let first = results?.first else { return nil }
        results?.removeFirst()
        return first
    }

    /// The lower-cased domains of a user's email addresses, or `["(none)"]`.
    static func domains(of user: Record) -> [String] {
        let addresses = (user["emails"]?.arrayValue ?? []).compactMap { $0["value"]?.stringValue }
        let domains = addresses.compactMap { address -> String? in
            guard let at = address.lastIndex(of: "@") else { return nil }
            let domain = address[address.index(after: at)...]
            return domain.isEmpty ? nil : domain.lowercased()
        }
        return domains.isEmpty ? ["(none)"] : domains
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

// 1. The sandbox: seed users plus three generated ones, on a free loopback port.
let server: SandboxServer
do {
    server = try await SandboxServer.start(SandboxConfiguration(port: 0, generatedUsers: 3))
} catch {
    printError("embed-example: cannot start the sandbox: \(error)")
    exit(1)
}

// 2. An interpreter writing into memory, pointed at the sandbox, with the extra command.
let sink = CapturingSink()
let interpreter = Interpreter(sink: sink, environment: [:])
interpreter.setVariable("host", .string("http://\(server.host):\(server.port)"))
interpreter.setVariable("base_path", .string(server.sandbox.configuration.basePath))
interpreter.setVariable("token", .string(server.sandbox.configuration.adminToken))
interpreter.register(DomainCountCommand())
interpreter.register(CopyAttributeCommand())

var failed = false

// 3. Text in, formatted text out: the pipeline's table lands in the sink.
let result = await interpreter.run("find | domain-count | table", name: "embed")
if result.status == .success {
    print("domain-count as a table:")
    print(sink.data, terminator: "")
} else {
    printError("embed-example: the pipeline failed (status \(result.status)):\n\(sink.messages)")
    failed = true
}

// 4. Text in, values out: the records of the last pipeline, no formatting.
do {
    let counts = try await interpreter.evaluate(
        #"find | where emails.value ew ".org" | domain-count"#, name: "embed")
    print("domain-count as values (.org addresses only):")
    for record in counts {
        let domain = record["domain"]?.stringValue ?? "?"
        let users = Int(record["users"]?.numberValue ?? 0)
        print("  \(domain): \(users) user\(users == 1 ? "" : "s")")
    }
    let active = try await interpreter.evaluate("find | count")
    print("active users: \(active.first?["count"]?.displayString ?? "?")")
} catch {
    printError("embed-example: \(error)")
    failed = true
}

// 5. Errors come back as values too: here the custom command rejects an argument.
do {
    _ = try await interpreter.evaluate("find | domain-count extra", name: "embed")
    printError("embed-example: expected an error for 'domain-count extra'")
    failed = true
} catch let error as ScriptError {
    print("error as a value: \(error.message)")
} catch {
    printError("embed-example: unexpected error \(error)")
    failed = true
}

// 6. The write command gets what `patch` gets, from its signature alone. `explain` lists its request:
sink.reset()
await interpreter.run(#"explain find userName eq "bjensen" | copy-attribute userName externalId"#, name: "embed")
print("explain:")
let host = "http://\(server.host):\(server.port)"
for explained in sink.data.split(separator: "\n")
where ["copy-attribute", "PATCH", "externalId"].contains(where: explained.contains) {
    print("  " + explained.drop { $0 == " " }.replacing(host, with: "{host}"))
}

// completion offers attributes for its arguments (the same context the REPL builds):
let context = CompletionContext(
    commands: interpreter.commands.map(\.name), signatures: CommandSignature.table(interpreter.commands))
let line = "find | copy-attribute userName ext"
let completion = Completer.complete(line: line, cursor: line.utf8.count, context: context)
print("completion of '\(line)': \(completion.candidates.joined(separator: " "))")

// and a dry run prints the plan and sends no write:
sink.reset()
server.clearLog()
await interpreter.run(
    #"set dry_run = on; find userName eq "bjensen" | copy-attribute userName externalId"#, name: "embed")
print("dry run:")
for planned in sink.messages.split(separator: "\n") { print("  " + planned) }
print("  requests other than GET: \(server.requestLog().filter { $0.method != "GET" }.count)")

// A real run sends the PATCH and reports like any write.
sink.reset()
let copied = await interpreter.run(
    #"set dry_run = off; find userName eq "bjensen" | copy-attribute userName externalId | count"#, name: "embed")
print("real run: \(sink.messages.split(separator: "\n").joined(separator: "; ")), status \(copied.status)")
print("  PATCH requests: \(server.requestLog().filter { $0.method == "PATCH" }.count)")

await interpreter.shutdown()
await server.stop()
exit(failed ? 1 : 0)
