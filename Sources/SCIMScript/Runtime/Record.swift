import SCIMCore

/// A record flowing through a pipeline: a JSON object, usually a SCIM User resource.
public typealias Record = JSONObject

extension JSONObject {
    /// The value at a dotted path (`userName`, `meta.created`, `emails.value`, `name.familyName`),
    /// case-insensitively. Through a multi-valued attribute, `emails.value` gives the values of every element
    /// (an array), or the single value when there is one element.
    public func value(atPath path: String) -> JSONValue? {
        if let direct = self[path] { return direct }
        // A plain name that is not a member (a table's `email` column, on every row): no path to follow.
        let dotted = path.utf8.withContiguousStorageIfAvailable { $0.contains(UInt8(ascii: ".")) }
        guard dotted ?? path.utf8.contains(UInt8(ascii: ".")) else { return nil }
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return nil }
        return JSONValue.object(self).value(atPath: parts[...])
    }

    /// Sets the value at a dotted path, creating intermediate objects; `nil` removes it.
    public mutating func setValue(_ value: JSONValue?, atPath path: String) {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first else { return }
        if parts.count == 1 {
            self[first] = value
            return
        }
        var child = self[first]?.objectValue ?? JSONObject()
        child.setValue(value, atPath: parts.dropFirst().joined(separator: "."))
        if child.isEmpty, value == nil, self[first] == nil { return }
        self[first] = .object(child)
    }
}

extension JSONValue {
    /// The value at a path given as parts; see ``JSONObject/value(atPath:)``.
    func value(atPath parts: ArraySlice<String>) -> JSONValue? {
        guard let head = parts.first else { return self }
        switch self {
        case .object(let o):
            guard let child = o[head] else { return nil }
            return child.value(atPath: parts.dropFirst())
        case .array(let items):
            let values = items.compactMap { $0.value(atPath: parts) }
            if values.isEmpty { return nil }
            return values.count == 1 ? values[0] : .array(values)
        default:
            return nil
        }
    }
}
