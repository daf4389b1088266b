import SCIMClient
import SCIMCore

/// `connect [PROFILE]`: switches the session to a server named in `profiles.toml`, or lists the profiles.
struct ConnectCommand: BuiltinCommand {
    let name = "connect"
    let signature = CommandSignature(input: .none, output: .printed).optional(.profile)
    let summary = "connect to a server named in profiles.toml, or list the profiles"
    var help: String {
        let width = ConnectionProfile.keys.map(\.name.count).max() ?? 0
        let keys = ConnectionProfile.keys.map { key in
            "  " + key.name + String(repeating: " ", count: width - key.name.count) + "  " + key.summary
        }
        return """
            Connection profiles live in $XDG_CONFIG_HOME/scimsh/profiles.toml (else \
            ~/.config/scimsh/profiles.toml), one TOML table per server:

              [prod]
              host = "https://odm.example.com"
              ca_file = "/etc/ssl/corp-ca.pem"
              proxy = "http://proxy.corp:3128"
              token_command = "pass show odm/prod"
              production = true

            `connect NAME` replaces the connection settings (host, TLS, proxy, token) with the profile's and fetches \
            its token; `connect` alone lists the profiles (name, host, where the token comes from; never a token). \
            At start: scimsh --profile NAME, or SCIMSH_PROFILE=NAME; flags given with it (--host, --cacert, \
            --proxy, ...) win over the profile.

            Keys:
            \(keys.joined(separator: "\n"))

            The token comes from token_env, token_command (run without a shell; its first output line is the \
            token, and it runs again when the server says the token expired) or token_keyring; a profile without \
            them uses $SCIMSH_TOKEN. A token written in the file itself is refused. The environment fills what \
            the session leaves unset: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, NO_PROXY (curl's rules) and SSL_CERT_FILE.

            When connecting fails (more in docs/connecting.md):
              certificate is not trusted       an internal CA: --cacert FILE, set ca_file, or SSL_CERT_FILE
              certificate expired on DATE      the server's admins must renew it
              not valid for this host name     use the name the certificate was issued for
              may require a client certificate give --cert FILE --key FILE (cert_file, key_file)
              proxy asks for credentials (407) proxy = "http://USER:PASSWORD@proxy:3128"
              proxy refused to open a tunnel   the proxy does not allow that host; or add it to no_proxy
              refusing to send the token over plain http://   use https://, or --allow-http on a trusted network
              401 Unauthorized                 the token is wrong or expired: fetch a new one (token_command)
            """
    }
    var examples: [CommandExample] {
        [CommandExample("connect", "list the connection profiles: name, host and where each token comes from")]
    }

    func makeStage(_ inv: StageInvocation, input: (any RecordSource)?) throws -> any RecordSource {
        ConnectSource(profile: inv.positionals.first?.value.displayString, invocation: inv)
    }
}

final class ConnectSource: RecordSource {
    let profile: String?
    let invocation: StageInvocation
    var done = false

    init(profile: String?, invocation: StageInvocation) {
        self.profile = profile
        self.invocation = invocation
    }

    var context: PipelineContext { invocation.context }

    func next() async throws -> Record? {
        guard !done else { return nil }
        done = true
        do throws(ProfileError) {
            if let profile { try await connect(profile) } else { try list() }
        } catch {
            if error.isInterrupted { throw CancellationError() }
            throw invocation.error(error.message)
        }
        return nil
    }

    func list() throws(ProfileError) {
        let file: ProfileFile
        do throws(ProfileError) {
            file = try ProfileFile.load(environment: context.environment)
        } catch  where error.isMissingFile {
            context.message("no connection profiles yet: " + error.message)
            return
        }
        if file.profiles.isEmpty {
            context.message("no connection profiles in \(file.path): add one [NAME] table per server (help connect)")
            return
        }
        let format = OutputFormat(rawValue: context.session.string("output")?.lowercased() ?? "table") ?? .table
        var writer = RecordWriters.make(format, columns: ["name", "host", "token", "production"])
        let current = context.session.string("profile")
        for p in file.profiles {
            let record = JSONObject([
                ("name", .string(p.name == current ? p.name + " *" : p.name)), ("host", .string(p.host)),
                ("token", .string(p.credentialSummary)), ("production", .bool(p.production)),
            ])
            context.sink.writeData(context.session.scrub(writer.write(record)))
        }
        context.sink.writeData(context.session.scrub(writer.finish()))
    }

    func connect(_ name: String) async throws(ProfileError) {
        let resolved = try await ResolvedProfile.load(named: name, environment: context.environment)
        guard context.updateSession({ $0.connect(resolved) }) else {
            throw ProfileError.notInInterpreter()
        }
        if resolved.profile.insecure { context.message(ConnectionProfile.insecureWarning) }
        context.message(resolved.summary)
    }
}
