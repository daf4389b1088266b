import Foundation

/// The command line as `--experimental-dump-help` describes it to documentation tools, without hidden subcommands.
///
/// ArgumentParser's dump lists the hidden default subcommand `run` (marked `"shouldDisplay": false`), and its
/// `generate-manual` tool writes every listed subcommand into the man page. `--help` and the completion scripts
/// leave `run` out; without it here, `scimsh(1)` says what `--help` says.
enum HelpDump {
    /// The dump with every subcommand whose `shouldDisplay` is false removed, at any depth; the text unchanged when
    /// it is not the JSON object ArgumentParser writes.
    static func removingHiddenSubcommands(_ text: String) -> String {
        guard var root = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
            let command = root["command"] as? [String: Any]
        else { return text }
        root["command"] = pruned(command)
        guard
            let data = try? JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }

    static func pruned(_ command: [String: Any]) -> [String: Any] {
        var command = command
        if let subcommands = command["subcommands"] as? [[String: Any]] {
            let shown = subcommands.filter { ($0["shouldDisplay"] as? Bool) != false }.map(pruned)
            command["subcommands"] = shown.isEmpty ? nil : shown
        }
        return command
    }
}
