// embed-example — a Swift program that embeds the scimsh interpreter and adds its own command.
//
// Build and run:  swift build --product embed-example && .build/debug/embed-example
//
// It starts the ODM-compatible sandbox on a free port, creates an `Interpreter` whose output goes to a
// `CapturingSink`, points it at the sandbox with `setVariable`, registers `domain-count` (users per email
// domain), runs a pipeline that prints through the interpreter's own formatter, reads the same results back as
// values with `evaluate`, and prints everything on stdout. Exit status 0 on success, 1 when a step fails.
//
// Against a real ODM, set host and token the same way (keep the token out of the source):
//     interpreter.setVariable("host", .string("https://odm.example.com"))
//     interpreter.setVariable("token", .string(ProcessInfo.processInfo.environment["ODM_TOKEN"] ?? ""))

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
    let signature = "… | domain-count"
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

await interpreter.shutdown()
await server.stop()
exit(failed ? 1 : 0)
