import Foundation

/// A token command for tests: a shell script printing `scimsh-sandbox-admin.N`, N counting its runs, as an
/// identity provider's CLI gives a fresh token each time. The sandbox accepts such derived tokens when it has a
/// token lifetime (``SandboxConfiguration/tokenLifetime``).
public struct CountingTokenScript: Sendable {
    /// The script's path (executable).
    public let path: String
    let counter: String

    /// Writes the script into `directory`.
    public init(in directory: String) throws {
        path = directory + "/fresh-token"
        counter = directory + "/fresh-token-runs"
        try """
        #!/bin/sh
        n=$(cat '\(counter)' 2>/dev/null || echo 0)
        n=$((n + 1))
        echo "$n" > '\(counter)'
        echo "scimsh-sandbox-admin.$n"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    }

    /// How many times the script has run.
    public var runs: Int {
        let text = (try? String(contentsOfFile: counter, encoding: .utf8)) ?? "0"
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}
