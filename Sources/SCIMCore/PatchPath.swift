/// A PATCH path with a value filter (RFC 7644 §3.5.2: `valuePath [subAttr]`): the elements of a multi-valued
/// attribute the filter selects, and optionally one sub-attribute of them, as in `emails[type eq "work"].value`.
public struct ValueFilterPath: Sendable, Hashable {
    /// The multi-valued attribute, with its schema URN when written (`emails`).
    public var attribute: AttributePath
    /// Which elements (`type eq "work"`); attribute names in it are the elements' sub-attributes.
    public var filter: SCIMFilter
    /// The sub-attribute of the selected elements (`value`), or `nil` for the whole elements.
    public var subAttribute: String?

    /// Reads `ATTR[FILTER]` or `ATTR[FILTER].SUB`; `nil` for a path without a value filter, or a malformed one
    /// (no closing `]`, a filter that does not parse, a sub-attribute with dots).
    public init?(parsing text: String) {
        guard let open = text.firstIndex(of: "["), let close = text.lastIndex(of: "]"), open < close else {
            return nil
        }
        guard let attribute = AttributePath(parsing: String(text[..<open])), attribute.subAttribute == nil,
            let filter = try? FilterParser.parse(String(text[text.index(after: open)..<close]))
        else { return nil }
        let rest = text[text.index(after: close)...]
        var sub: String?
        if !rest.isEmpty {
            guard rest.first == ".", rest.count > 1, !rest.dropFirst().contains(".") else { return nil }
            sub = String(rest.dropFirst())
        }
        self.attribute = attribute
        self.filter = filter
        self.subAttribute = sub
    }
}
