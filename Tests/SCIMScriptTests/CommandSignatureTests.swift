import Foundation
import SCIMClient
import SCIMCore
import SCIMSandbox
import SCIMScript
import XCTest

/// One signature per command drives its usage line, completion, `explain` and dry runs, for built-in and
/// registered commands alike.
final class CommandSignatureTests: InterpreterTestCase {
    func testUsageLinesAreMadeFromSignatures() {
        let usage = Dictionary(uniqueKeysWithValues: BuiltinCommands.all.map { ($0.name, $0.usage) })
        XCTAssertEqual(usage["find"], "find [--limit N] [FILTER]")
        XCTAssertEqual(usage["get"], "… | get   or   get ID...")
        XCTAssertEqual(usage["lookup"], "… | lookup ATTR[=FIELD]")
        XCTAssertEqual(usage["create"], "… | create [ATTR=VALUE...]   or   create ATTR=VALUE...")
        XCTAssertEqual(usage["patch"], "… | patch OPS...   or   patch ID OPS...")
        XCTAssertEqual(usage["delete"], "… | delete [--force]   or   delete ID... [--force]")
        XCTAssertEqual(usage["where"], "… | where FILTER")
        XCTAssertEqual(usage["sort"], "… | sort ATTR [asc|desc] [ATTR [asc|desc]]...")
        XCTAssertEqual(usage["first"], "… | first [N]")
        XCTAssertEqual(usage["expect"], "… | expect [<=|>=|<|>|==] N")
        XCTAssertEqual(usage["journal"], "journal [N] [--limit K]")
        XCTAssertEqual(usage["table"], "… | table [ATTR...]")
        XCTAssertEqual(usage["json"], "… | json")
        XCTAssertEqual(usage["connect"], "connect [PROFILE]")
    }

    /// The runtime checks every stage's arguments against the signature, before building or explaining it.
    func testArgumentsAreCheckedAgainstTheSignature() async throws {
        let h = try await makeHarness()
        let refused: [(String, String)] = [
            ("find --x", "find has no option --x: find [--limit N] [FILTER]"),
            ("find | get x", "get takes arguments or input records, not both: … | get   or   get ID..."),
            ("find | count x", "count takes no arguments"),
            ("find | select a=b", "select takes no ATTR=VALUE argument (a=…): … | select ATTR..."),
            ("rename-group Curators", "rename-group needs NEW_NAME: rename-group GROUP NEW_NAME"),
            ("explain find | sort", "sort needs ATTR: … | sort ATTR [asc|desc] [ATTR [asc|desc]]..."),
        ]
        for (statement, message) in refused {
            let r = await h.fresh(statement)
            XCTAssertEqual(r.exitCode, 1, statement)
            XCTAssertTrue(h.messages.contains("error: " + message), h.messages)
            XCTAssertEqual(h.log, [], "\(statement) sends nothing")
        }
        // A command without a signature of its own is not checked.
        h.interpreter.register(LegacyCommand())
        await h.expectSuccess(#"find | legacy --goes userName eq "bjensen""#)
    }

    func testBuiltInCommandsAreListedInHelpByTheirSignature() async throws {
        let h = try await makeHarness()
        await h.expectSuccess("help")
        for (category, name) in [
            ("Server (sends requests):", "  undo "), ("Local (no requests):", "  connect "),
            ("Output:", "  table "),
        ] {
            let section = try XCTUnwrap(h.data.components(separatedBy: category).last)
            XCTAssertTrue(section.components(separatedBy: "\n\n").first?.contains(name) == true, h.data)
        }
    }

    func testExplainLookupListsItsRequest() async throws {
        let h = try await makeHarness()
        let r = await h.run("explain find | lookup userName=login")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertTrue(
            h.data.contains(
                """
                2. lookup (sends reads)
                   userName = "login"
                   for each input record, VALUE being its login:
                     GET \(h.host)/api/v1/scim/Users?filter=userName%20eq%20%22VALUE%22&startIndex=1&count=2

                """), h.data)
        XCTAssertEqual(h.log, [], "explain sends nothing")
    }

    func testExplainUndoListsTheRequestsThatPutUsersBack() async throws {
        let h = try await makeHarness()
        await h.expectSuccess(#"find userName eq "bjensen" | patch displayName="B" | count"#)
        let displayName = try XCTUnwrap(h.server.users().first { $0["id"] == .string(Seed.bjensen) })
        XCTAssertEqual(displayName["displayName"], "B")
        h.reset()
        let r = await h.run("explain undo")
        XCTAssertEqual(r.exitCode, 0, h.messages)
        XCTAssertTrue(h.data.hasPrefix("pipeline: 1 stage\n1. undo (sends writes)\n   for user bjensen:\n"), h.data)
        XCTAssertTrue(h.data.contains("PATCH \(h.host)/api/v1/scim/Users/\(Seed.bjensen)\n"), h.data)
        XCTAssertTrue(h.data.contains(#""displayName": "Barbara Jensen""#), h.data)
        XCTAssertEqual(h.log, [], "explain sends nothing")
        XCTAssertEqual(h.user("bjensen")?["displayName"], "B", "and changes nothing")
    }

    func testACommandWithoutASignatureKeepsItsOldDeclarations() async throws {
        let h = try await makeHarness()
        h.interpreter.register(LegacyCommand())
        let command = try XCTUnwrap(h.interpreter.command(named: "legacy"))
        XCTAssertTrue(command.isMutating)
        XCTAssertEqual(command.syntax.style, .filter)
        XCTAssertEqual(command.usage, "… | legacy")
        await h.expectSuccess(#"explain find | legacy userName eq "x""#)
        XCTAssertTrue(h.data.contains("2. legacy (sends writes)\n   filter: userName eq \"x\"\n"), h.data)
    }

    /// A command a host program registers is parsed, completed, explained and dry-run from its signature.
    func testARegisteredCommandIsTreatedLikeABuiltIn() async throws {
        let h = try await makeHarness()
        h.interpreter.register(RenameCommand())
        await h.expectSuccess("help rename")
        XCTAssertTrue(h.data.hasPrefix("… | rename NAME [--suffix TEXT]\n"), h.data)

        let context = CompletionContext(signatures: CommandSignature.table(h.interpreter.commands))
        let line = "find | rename --"
        XCTAssertEqual(
            Completer.complete(line: line, cursor: line.utf8.count, context: context).candidates, ["--suffix"])

        h.reset()
        await h.expectSuccess(#"explain find userName eq "bjensen" | rename --suffix Jr "B""#)
        XCTAssertTrue(h.data.contains("2. rename (sends writes)\n"), h.data)
        XCTAssertTrue(h.data.contains("PATCH \(h.host)/api/v1/scim/Users/{id}\n"), h.data)

        h.reset()
        await h.expectSuccess(#"set dry_run = on; find userName eq "bjensen" | rename "B""#)
        XCTAssertTrue(h.messages.contains(#"would rename user bjensen ("#), h.messages)
        XCTAssertTrue(h.messages.contains(#"displayName: "Barbara Jensen" → "B""#), h.messages)
        XCTAssertEqual(h.log.filter { $0.method != "GET" }.map(\.method), [], "a dry run sends no write")

        h.reset()
        await h.expectSuccess(#"set dry_run = off; find userName eq "bjensen" | rename "B" | count"#)
        XCTAssertEqual(h.requests("PATCH").count, 1)
        XCTAssertEqual(h.user("bjensen")?["displayName"], "B")
    }
}

/// A command written before signatures existed: it declares its usage as text and its role with the old
/// properties, which still count.
private struct LegacyCommand: Command {
    let name = "legacy"
    let signature = "… | legacy FILTER"
    let summary = "an old-style command"
    let isMutating = true
    var syntax: CommandSyntax { .filter }

    func makeStage(_ invocation: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        input ?? EmptySource()
    }
}

/// `rename NAME [--suffix TEXT]`: sets each input user's displayName, through the shared write machinery.
private struct RenameCommand: Command {
    let name = "rename"
    let signature = CommandSignature(access: .writes).required(.value, "NAME").flag("suffix", .value, "TEXT")
    let summary = "set each input user's displayName"

    func displayName(_ invocation: StageInvocation) throws -> String {
        guard let name = invocation.positionals.first?.value.displayString else {
            throw invocation.error("rename needs a name")
        }
        return [name, invocation.flag("suffix")?.value.displayString].compactMap { $0 }.joined(separator: " ")
    }

    func requests(for invocation: StageInvocation, client: SCIMClient) throws -> [PlannedRequest] {
        let value = JSONValue.object(JSONObject([("displayName", .string(try displayName(invocation)))]))
        let body = PatchOperation.body([PatchOperation(op: .replace, path: nil, value: value)])
        return [PlannedRequest("for each input user", try client.userRequest("PATCH", id: "{id}", body: body))]
    }

    func makeStage(_ invocation: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        let name = try displayName(invocation)
        let client = try invocation.context.client()
        return try invocation.writeStage(
            input ?? EmptySource(), operation: "rename", pastTense: "renamed",
            predict: { user in
                var after = user
                after["displayName"] = .string(name)
                return after
            },
            perform: { user in
                let id = user["id"]?.stringValue ?? ""
                let change = PatchOperation(op: .replace, path: "displayName", value: .string(name))
                return try await client.patchUser(id: id, operations: [change]).attributes
            })
    }
}
