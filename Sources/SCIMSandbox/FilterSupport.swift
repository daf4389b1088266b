import SCIMCore

/// What ODM's filter support allows: `eq`, `and`, and value filters such as
/// `emails[type eq "work" and value eq "x@y.org"]` built from those two.
enum FilterSupport {
    /// The first construct ODM does not support, named for an error message (`'co'`, `'or'`, ...), or `nil`.
    static func firstUnsupported(in filter: SCIMFilter) -> String? {
        switch filter {
        case .compare(_, let op, let value):
            if op != .eq { return "'\(op.rawValue)'" }
            if case .variable(let name) = value { return "variable '$\(name)'" }
            return nil
        case .present: return "'pr'"
        case .and(let a, let b): return firstUnsupported(in: a) ?? firstUnsupported(in: b)
        case .or: return "'or'"
        case .not: return "'not'"
        case .valuePath(_, let inner): return firstUnsupported(in: inner)
        }
    }

    /// The filter with every unsupported clause dropped, as a sloppy server evaluates it; `nil` when nothing
    /// is left (every resource matches).
    static func droppingUnsupported(_ filter: SCIMFilter) -> SCIMFilter? {
        switch filter {
        case .compare(_, let op, let value):
            if op != .eq { return nil }
            if case .variable = value { return nil }
            return filter
        case .present, .or, .not: return nil
        case .and(let a, let b):
            switch (droppingUnsupported(a), droppingUnsupported(b)) {
            case (let x?, let y?): return .and(x, y)
            case (let x?, nil): return x
            case (nil, let y?): return y
            case (nil, nil): return nil
            }
        case .valuePath(let path, let inner):
            guard let kept = droppingUnsupported(inner) else { return nil }
            return .valuePath(path, kept)
        }
    }

    /// The userName of a filter that is exactly `userName eq "..."`, for an index lookup.
    static func userNameEquality(_ filter: SCIMFilter) -> String? {
        guard case .compare(let path, .eq, .literal(.string(let value))) = filter,
            path.subAttribute == nil, path.name.lowercased() == "username",
            path.schema == nil || path.schema?.lowercased() == SCIMSchema.user.lowercased()
        else { return nil }
        return value
    }
}
