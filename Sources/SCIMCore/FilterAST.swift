/// An attribute path in a SCIM filter or PATCH path: `userName`, `name.familyName`,
/// `urn:ietf:params:scim:schemas:core:2.0:User:userName` (RFC 7644 §3.4.2.2 `attrPath`).
public struct AttributePath: Sendable, Hashable, CustomStringConvertible {
    /// The schema URI prefix, if the path was written fully qualified.
    public var schema: String?
    /// The attribute name as written (compare case-insensitively).
    public var name: String
    /// The sub-attribute, for `name.familyName` or `emails.value`.
    public var subAttribute: String?

    /// A path from its parts.
    public init(schema: String? = nil, name: String, subAttribute: String? = nil) {
        self.schema = schema
        self.name = name
        self.subAttribute = subAttribute
    }

    /// The path as SCIM text.
    public var description: String {
        var s = ""
        if let schema { s += schema + ":" }
        s += name
        if let subAttribute { s += "." + subAttribute }
        return s
    }
}

/// A comparison operator of the SCIM filter grammar (RFC 7644 §3.4.2.2, table 3).
public enum CompareOperator: String, Sendable, Hashable, CaseIterable {
    case eq, ne, co, sw, ew, gt, ge, lt, le
}

/// The right-hand side of a comparison: a JSON literal, or (only when the parser is asked to allow
/// them) a scimsh variable reference `$name` to be resolved before the filter is used.
public enum FilterValue: Sendable, Hashable {
    case literal(JSONValue)
    case variable(String)
}

/// A parsed SCIM filter (RFC 7644 §3.4.2.2).
public indirect enum SCIMFilter: Sendable, Hashable {
    /// `attrPath op value`
    case compare(AttributePath, CompareOperator, FilterValue)
    /// `attrPath pr`
    case present(AttributePath)
    /// `a and b`
    case and(SCIMFilter, SCIMFilter)
    /// `a or b`
    case or(SCIMFilter, SCIMFilter)
    /// `not (a)`
    case not(SCIMFilter)
    /// `emails[type eq "work"]`, optionally followed by `.subAttr` is not part of filters; the
    /// inner filter applies to the elements of the multi-valued attribute.
    case valuePath(AttributePath, SCIMFilter)
}

/// A filter parse error: what was expected, and where (a UTF-8 byte offset into the filter text).
public struct FilterParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, phrased for a person ("expected a value after 'eq'").
    public var message: String
    /// The 0-based UTF-8 byte offset in the filter text where the problem is.
    public var offset: Int
    /// The number of bytes the problem spans (at least 1 for a caret).
    public var length: Int

    /// An error at a position.
    public init(message: String, offset: Int, length: Int = 1) {
        self.message = message
        self.offset = offset
        self.length = length
    }

    public var description: String { "\(message) (at column \(offset + 1))" }
}

extension AttributePath {
    /// Reads an attribute path as RFC 7644 §3.10 writes it: an optional schema URN prefix ending at the last `:`
    /// (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`), then the attribute name,
    /// then after the first `.` its sub-attribute (`name.givenName`). The dots inside the URN (`2.0`) belong to
    /// the URN; only a `urn:` prefix is a schema. Lenient (names are not checked): for paths users type as
    /// arguments and column names. `nil` for an empty name.
    public init?(parsing text: String) {
        var rest = Substring(text)
        var schema: String?
        // Schema URIs are URNs: `time:x` is a name with a colon in it, not a schema and an attribute.
        if text.utf8.count > 4, text.prefix(4).lowercased() == "urn:", let colon = text.lastIndex(of: ":") {
            schema = String(text[..<colon])
            rest = text[text.index(after: colon)...]
        }
        let name = rest.prefix { $0 != "." }
        guard !name.isEmpty else { return nil }
        let sub = rest.dropFirst(name.count + 1)
        self.init(schema: schema, name: String(name), subAttribute: sub.isEmpty ? nil : String(sub))
    }

    /// Whether the schema prefix names an extension; see ``isExtensionSchema(_:)``.
    public var isExtension: Bool { schema.map(AttributePath.isExtensionSchema) ?? false }

    /// Whether a schema URN names an extension (`urn:…:extension:enterprise:2.0:User`): any `urn:` other than
    /// the core User and Group schemas, whose attributes sit at the top level of a resource.
    public static func isExtensionSchema(_ urn: String) -> Bool {
        let s = urn.lowercased()
        return s.hasPrefix("urn:") && s != SCIMSchema.user.lowercased()
            && s != "urn:ietf:params:scim:schemas:core:2.0:group"
    }

    /// The path inside the resource's JSON: the extension's URN object first (for extensions), then the name and
    /// the sub-attribute's dotted parts.
    public var jsonPath: [String] {
        var parts: [String] = []
        if isExtension, let schema { parts.append(schema) }
        parts.append(name)
        if let subAttribute { parts.append(contentsOf: subAttribute.split(separator: ".").map(String.init)) }
        return parts
    }
}
