import SCIMClient
import SCIMCore

extension Interpreter {
    /// What the session's server says at its discovery endpoints (RFC 7644 §4), read on first use and kept per
    /// base URL for the session; `nil` without a host, or when it could not be read this time (no answer, 401).
    public func discovery() async -> ServerDiscovery? {
        guard let client = try? client() else { return nil }
        return await discoveryCache.discovery(using: client)
    }

    /// The attribute paths completion offers: those of the server's User schemas when an earlier statement read
    /// them (`/Schemas`), else the standard ones. Sends nothing.
    public var completionAttributes: [String] {
        guard let baseURL = session.clientConfiguration()?.baseURL,
            let paths = discoveryCache.known(baseURL: baseURL)?.userAttributePaths, !paths.isEmpty
        else { return CompletionContext.standardAttributes }
        return paths
    }

    /// The dialect completion offers operators for: the session's, with what discovery already read. Sends nothing.
    public var completionDialect: Dialect {
        let known = session.clientConfiguration().flatMap { discoveryCache.known(baseURL: $0.baseURL) }
        return PipelineContext.dialect(of: session, discovery: known)
    }
}

extension CommandSignature {
    /// Whether the command writes users' attributes named in its arguments (`ATTR=VALUE` of `create`, `patch`):
    /// those names are checked against the server's schemas.
    var writesAttributes: Bool {
        access == .writes && positionals.contains { $0.kind == .assignment || $0.kind == .patchOperation }
    }
}

/// A feature a server may lack (RFC 7643 §5), for refusing a stage before it sends anything.
enum ServerFeature: String {
    case patch, filter, etag

    /// The feature in a sentence: "PATCH", "filtering".
    var noun: String {
        switch self {
        case .patch: return "PATCH"
        case .filter: return "filtering"
        case .etag: return "ETags"
        }
    }

    /// Whether the configuration says the server supports it.
    func isSupported(by config: ServiceProviderConfig) -> Bool {
        switch self {
        case .patch: return config.patch
        case .filter: return config.filter
        case .etag: return config.etag
        }
    }
}

extension PipelineContext {
    /// Whether string values of a user attribute compare case-sensitively (for typed comparison in `where` and
    /// the `find` double-check): the server's `caseExact` from `/Schemas` when this session read them, else
    /// RFC 7643's default (``ServerDiscovery/defaultCaseExact(_:)``).
    public func caseExact(_ path: AttributePath) -> Bool {
        discovery?.caseExact(path) ?? ServerDiscovery.defaultCaseExact(path)
    }

    /// Whether the server's `/ServiceProviderConfig` says it lacks a feature (`false` when it says nothing).
    func serverLacks(_ feature: ServerFeature) -> Bool {
        guard let config = discovery?.config else { return false }
        return !feature.isSupported(by: config)
    }

    /// Refuses a stage that needs a feature the server says it lacks, before anything is sent.
    func require(_ feature: ServerFeature, for command: String, at range: SourceRange?) throws {
        guard serverLacks(feature) else { return }
        throw ScriptError(
            "the server does not support \(feature.noun) "
                + "(its /ServiceProviderConfig says \(feature.rawValue).supported = false), so \(command) cannot work "
                + "there; nothing was sent (help server shows what it supports)", range: range)
    }

    /// The version (`meta.version`, RFC 7644 §3.14) a write to `record` should send as `If-Match`: the one read
    /// with the user, unless the server says it does not support ETags.
    func expectedVersion(of before: Record?, _ record: Record) -> ExpectedVersion? {
        guard !serverLacks(.etag), let image = before ?? (record["meta"] != nil ? record : nil),
            let version = image["meta"]?["version"]?.stringValue, !version.isEmpty,
            let id = image["id"]?.stringValue ?? record["id"]?.stringValue, !id.isEmpty
        else { return nil }
        return ExpectedVersion(collection: "/Users", id: id, version: version)
    }

    /// ``warnUnknownAttributes(_:in:)`` for attribute paths as written in arguments (`ATTR=VALUE`, patch paths):
    /// a value filter is left out (`emails[type eq "work"].value` is checked as `emails.value`), and so are
    /// scimsh's own shorthands (`email`) and `schemas`.
    func warnUnknownAttributes(written texts: [String], in command: String) {
        let paths = texts.compactMap { text -> AttributePath? in
            var plain = ""
            var depth = 0
            for c in text {
                switch c {
                case "[": depth += 1
                case "]": depth = max(0, depth - 1)
                default: if depth == 0 { plain.append(c) }
                }
            }
            guard !["email", "schemas"].contains(plain.lowercased()) else { return nil }
            return AttributePath(parsing: plain)
        }
        warnUnknownAttributes(paths, in: command)
    }

    /// A warning for each attribute of a filter that the server's User schemas do not define, with the closest
    /// name they do; nothing when the schemas are not known.
    func warnUnknownAttributes(_ paths: [AttributePath], in command: String) {
        guard let discovery, !discovery.userAttributePaths.isEmpty else { return }
        for path in paths where discovery.userAttribute(path) == nil {
            var text = "the server's schemas define no user attribute '\(path)'"
            if let near = Suggest.closest(to: path.description, among: discovery.userAttributePaths) {
                text += " (did you mean '\(near)'?)"
            }
            warning(text + " in \(command)")
        }
    }
}

extension SCIMError {
    /// For a 412 to a write that sent `If-Match`: what happened and what to do.
    var preconditionExplanation: String? {
        guard status == 412 else { return nil }
        return "the user was changed on the server after scimsh read it (If-Match did not match its version), so "
            + "this write was not sent through and nothing was overwritten; read the user again and repeat the change"
    }
}

extension HelpText {
    /// `help server`: what the session's server said at its discovery endpoints, and the dialect in use.
    static func server(interpreter: Interpreter) async throws -> String {
        let session = interpreter.session
        guard let config = session.clientConfiguration() else {
            throw ScriptError("no server: set host = \"https://odm.example.com\" first (help server asks it)")
        }
        var out = "server: \(config.baseURL)\n"
        let discovery = await interpreter.discovery()
        var reason: String?
        if discovery == nil, let client = try? interpreter.client() {
            do {
                _ = try await client.discover()
            } catch {
                reason = error.description
            }
        }
        let setting = session.string("dialect")?.lowercased() ?? "auto"
        let dialect = Dialect.resolve(setting: setting, basePath: config.basePath, discovery: discovery)
        var why: String
        switch (setting, discovery?.isOffered) {
        case ("odm", _), ("rfc", _): why = "set dialect = \(setting)"
        case (_, true?): why = "auto: the server offers discovery"
        case _ where dialect == .odm:
            why = "auto: no discovery, and base_path is ODM's \(SCIMConfiguration.odmBasePath)"
        default: why = "auto: base_path is not ODM's"
        }
        out += "dialect: \(dialect.rawValue) (\(why))\n"
        if dialect == .odm {
            out +=
                "  ODM: find takes eq and and only (plus emails[...]); patch edits userName, externalId, "
                + "displayName, active; delete deactivates\n"
        }
        guard let discovery else {
            out += "discovery: could not be read (\(reason ?? "unknown reason")); asked again at the next statement\n"
            return out
        }
        guard let spc = discovery.config else {
            out +=
                "discovery: none (\(discovery.absence ?? "not offered")): no /ServiceProviderConfig, "
                + "/ResourceTypes or /Schemas; scimsh assumes the dialect's defaults\n"
            return out
        }
        out +=
            "discovery: /ServiceProviderConfig, /ResourceTypes (\(discovery.resourceTypes.count)), "
            + "/Schemas (\(discovery.schemas.count))\n"
        func yes(_ b: Bool) -> String { b ? "supported" : "not supported" }
        var features: [(String, String)] = [
            ("patch", yes(spc.patch) + (spc.patch ? "" : ": patch and undo are refused before sending")),
            (
                "filter",
                yes(spc.filter) + (spc.maxResults.map { ", at most \($0) results per page" } ?? "")
                    + (spc.filter ? "" : ": find lists every user and filters here")
            ),
            ("sort", yes(spc.sort) + " (scimsh's sort always sorts here)"),
            (
                "etag",
                yes(spc.etag) + (spc.etag ? ": a write after a read sends If-Match with the version read" : "")
            ),
            (
                "bulk",
                yes(spc.bulk)
                    + (spc.bulk
                        ? " (\(spc.bulkMaxOperations.map(String.init) ?? "?") operations, "
                            + "\(spc.bulkMaxPayloadSize.map(String.init) ?? "?") bytes)" : "")
            ),
            ("changePassword", yes(spc.changePassword)),
        ]
        if !spc.authenticationSchemes.isEmpty {
            features.append(("authentication", spc.authenticationSchemes.joined(separator: ", ")))
        }
        for (name, text) in features {
            out += "  \(padded(name, 15)) \(text)\n"
        }
        if !discovery.resourceTypes.isEmpty {
            out += "resource types:\n"
            for t in discovery.resourceTypes {
                let ext = t.schemaExtensions.map { $0.schema + ($0.required ? " (required)" : "") }
                out += "  \(t.name) at \(t.endpoint): \(([t.schema] + ext).joined(separator: ", "))\n"
            }
        }
        let (core, extensions) = discovery.userSchemas
        for schema in [core].compactMap({ $0 }) + extensions {
            out += "user attributes of \(schema.id):\n"
            for a in schema.attributes { out += "  " + describe(a) + "\n" }
        }
        return out
    }

    /// `emails  complex, multi-valued (value, display, type, primary)`, with the characteristics that are not
    /// RFC 7643's defaults.
    static func describe(_ a: SchemaAttribute) -> String {
        var traits = [a.type]
        if a.multiValued { traits.append("multi-valued") }
        if a.caseExact { traits.append("caseExact") }
        if a.mutability.lowercased() != "readwrite" { traits.append(a.mutability) }
        if a.required { traits.append("required") }
        if a.uniqueness.lowercased() != "none" { traits.append("unique: \(a.uniqueness)") }
        var s =
            padded(a.name, 18) + " "
            + traits.joined(separator: ", ")
        if !a.subAttributes.isEmpty {
            s += " (" + a.subAttributes.map(\.name).joined(separator: ", ") + ")"
        }
        return s
    }

    /// The text followed by spaces up to `width` characters (at least one space after it).
    static func padded(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }
}
