import SCIMCore

/// A record flowing through a pipeline: a JSON object, usually a SCIM User resource.
public typealias Record = JSONObject

extension JSONObject {
    /// The value at an attribute path (`userName`, `meta.created`, `emails.value`, `name.familyName`,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`), case-insensitively; see
    /// ``AttributePath/init(parsing:)``. Through a multi-valued attribute, `emails.value` gives the values of every
    /// element (an array), or the single value when there is one element.
    public func value(atPath path: String) -> JSONValue? {
        if let direct = self[path] { return direct }
        // A plain name that is not a member (a table's `email` column, on every row): no path to follow.
        let qualified = path.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") }
        guard qualified, let parsed = AttributePath(parsing: path) else { return nil }
        let parts = parsed.jsonPath
        guard parts.count > 1 || parts.first != path else { return nil }
        return JSONValue.object(self).value(atPath: parts[...])
    }

    /// Sets the value at an attribute path (see ``value(atPath:)``), creating intermediate objects: an extension
    /// attribute goes into its schema's object (`{"urn:…:enterprise:2.0:User": {"employeeNumber": …}}`), a
    /// core-schema-qualified one at the top level. `nil` removes it.
    public mutating func setValue(_ value: JSONValue?, atPath path: String) {
        guard let parsed = AttributePath(parsing: path) else { return }
        setValue(value, atParts: parsed.jsonPath[...])
    }

    mutating func setValue(_ value: JSONValue?, atParts parts: ArraySlice<String>) {
        guard let first = parts.first else { return }
        if parts.count == 1 {
            self[first] = value
            return
        }
        var child = self[first]?.objectValue ?? JSONObject()
        child.setValue(value, atParts: parts.dropFirst())
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

extension ValueFilterPath {
    /// The resource with the operation applied locally (for plans and predictions): `remove` drops the selected
    /// elements (or their sub-attribute), `add` and `replace` set the sub-attribute of each selected element (or
    /// replace the elements with `value`). Elements that are not objects, and resources without the attribute,
    /// are left as they are.
    func applying(_ op: PatchOperation.Op, value: JSONValue?, to resource: JSONObject) -> JSONObject {
        let parts = attribute.jsonPath
        guard let items = JSONValue.object(resource).value(atPath: parts[...])?.arrayValue else { return resource }
        var out: [JSONValue] = []
        for item in items {
            guard var element = item.objectValue, filter.matches(item) else {
                out.append(item)
                continue
            }
            switch (op, subAttribute) {
            case (.remove, nil): continue
            case (.remove, let sub?): element[sub] = nil
            case (_, let sub?): element[sub] = value
            case (_, nil):
                guard let value else { break }
                out.append(value)
                continue
            }
            out.append(.object(element))
        }
        var result = resource
        result.setValue(.array(out), atParts: parts[...])
        return result
    }
}
