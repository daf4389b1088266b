/// Which statements of a text set a secret, judged on the parsed statements rather than on the text's first words
/// (`set token \⏎= "…"`, `echo $token; set token = "…"`), for every place that keeps typed lines: the prompt's
/// history (in memory, on disk, the `history` listing) and `record` files.
public enum SecretStatements {
    /// The words that make a variable name secret-looking (any case).
    static let secretWords = ["token", "secret", "password", "passwd"]

    /// Whether a variable's value is a secret to keep out of history: `token`, `api_token`, and any name containing
    /// `token`, `secret`, `password` or `passwd`.
    public static func isSecretName(_ name: String) -> Bool {
        let lower = name.lowercased()
        return secretWords.contains { lower.contains($0) }
    }

    /// Whether any statement of `text` sets a secret-looking variable. Text that does not parse counts as secret
    /// when it mentions such a name anywhere, since its statements cannot be told apart.
    public static func setsSecret(_ text: String) -> Bool {
        guard let script = try? Parser().parse(text, name: "<history>") else {
            let lower = text.lowercased()
            return secretWords.contains { lower.contains($0) } || (lower.contains("proxy") && lower.contains("@"))
        }
        return script.statements.contains { secretName(of: $0) != nil }
    }

    /// `text` as lines of a replayable script: each statement on a line of its own, and a statement that sets a
    /// secret as `set NAME = $env.VARIABLE` (`SCIMSH_TOKEN` for `token`, `SCIMSH_API_TOKEN` for `api_token`, else
    /// the name in capitals), never with its value. `nil` when the text does not parse.
    public static func recordable(_ text: String) -> String? {
        guard let script = try? Parser().parse(text, name: "<record>") else { return nil }
        var out = ""
        for statement in script.statements {
            if let name = secretName(of: statement) {
                let variable =
                    switch name.lowercased() {
                    case "token": "SCIMSH_TOKEN"
                    case "api_token": "SCIMSH_API_TOKEN"
                    case "proxy": "HTTPS_PROXY"
                    default: name.uppercased()
                    }
                out += "set \(name) = $env.\(variable)\n"
            } else {
                out += statement.text + "\n"
            }
        }
        return out
    }

    /// The name a statement sets when it is secret-looking: a secret name, or `proxy` with credentials in its
    /// URL (`set proxy = "http://user:password@proxy:3128"`).
    static func secretName(of statement: Statement) -> String? {
        guard case .set(let name, _, _) = statement.kind else { return nil }
        if isSecretName(name) { return name }
        if name.lowercased() == "proxy", statement.text.contains("@") { return name }
        return nil
    }
}
