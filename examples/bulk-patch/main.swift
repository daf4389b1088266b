// bulk-patch-example — a bulk change with the SCIMClient library alone, no interpreter.
//
// Build and run:
//     swift build --product bulk-patch-example
//     SCIMSH_HOST=http://127.0.0.1:8080 SCIMSH_TOKEN=... .build/debug/bulk-patch-example "New name" [CONCURRENCY]
//
// It lists every active user page by page (`findAll` streams; one page in memory at a time) and sets each one's
// displayName with up to CONCURRENCY (default 8) PATCH requests in flight (over as many connections, each with
// its next request prepared and waiting), then prints
// `patched N users, F failed in T ms` and exits 0 (1 if any PATCH failed, 2 on a usage error).
// SCIMSH_BASE_PATH overrides the base path (default /api/v1/scim). The token comes from the environment, never
// from the command line, so the process list does not show it.
//
// This is what `find | patch displayName="New name"` does in scimsh, minus what the interpreter adds: the
// journal for undo, the table of results, exactly-once paging when the change moves users out of the listing
// (setting active=false would, on ODM), the confirmation and the progress line. `make bench` runs both, so the
// difference is the interpreter's own cost.

import SCIMClient
import SCIMCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

/// Writes a line to stderr.
func report(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func fail(_ message: String, status: Int32) -> Never {
    report("bulk-patch-example: \(message)")
    exit(status)
}

/// Patches every listed user, at most `concurrency` at a time; returns how many succeeded and failed.
func patchAll(_ client: SCIMClient, _ change: [PatchOperation], concurrency: Int) async throws -> (Int, Int) {
    let window = concurrency
    return try await withThrowingTaskGroup(of: Bool.self) { group in
        var inFlight = 0
        var patched = 0
        var failed = 0
        func collect(_ ok: Bool?) {
            guard let ok else { return }
            inFlight -= 1
            if ok { patched += 1 } else { failed += 1 }
        }
        for try await user in client.findAll() {
            guard let id = user.id else { continue }
            if inFlight == window { collect(try await group.next()) }
            group.addTask {
                do {
                    _ = try await client.patchUser(id: id, operations: change)
                    return true
                } catch {
                    report("error: \(id): \(error)")
                    return false
                }
            }
            inFlight += 1
        }
        while inFlight > 0 { collect(try await group.next()) }
        return (patched, failed)
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let host = environment("SCIMSH_HOST"), let token = environment("SCIMSH_TOKEN"),
    let displayName = arguments.first, arguments.count <= 2
else {
    fail("usage: SCIMSH_HOST=URL SCIMSH_TOKEN=TOKEN bulk-patch-example DISPLAYNAME [CONCURRENCY]", status: 2)
}
guard let concurrency = arguments.count == 2 ? Int(arguments[1]) : 8, (1...256).contains(concurrency) else {
    fail("CONCURRENCY must be a number from 1 to 256", status: 2)
}

let client = SCIMClient(
    configuration: SCIMConfiguration(
        host: host, basePath: environment("SCIMSH_BASE_PATH") ?? "/api/v1/scim", auth: .bearer(token)))
// The path-less form, which ODM's generated clients send too.
let change = [
    PatchOperation(op: .replace, path: nil, value: .object(JSONObject([("displayName", .string(displayName))])))
]
let start = ContinuousClock.now
let patched: Int
let failed: Int
do {
    (patched, failed) = try await patchAll(client, change, concurrency: concurrency)
} catch {
    await client.shutdown()
    fail("\(error)", status: 1)
}
await client.shutdown()
let elapsed = ContinuousClock.now - start
let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
print("patched \(patched) users, \(failed) failed in \(ms) ms")
exit(failed == 0 ? 0 : 1)
