extension SCIMFilter {
    /// Whether a resource (a JSON object such as a User) matches the filter, following RFC 7644 §3.4.2.2.
    ///
    /// The rules, kept simple and applied the same way everywhere:
    /// - Attribute names are case-insensitive. A schema-qualified path
    ///   (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`) is looked up inside the
    ///   member named by the schema URN when the resource has one, otherwise at the top level (core schema).
    ///   An unqualified name missing at the top level is also looked for in the resource's extension
    ///   objects (members whose name starts with `urn:`).
    /// - String comparisons are case-insensitive for every attribute (as if `caseExact` were false, even for
    ///   `id`). `gt`, `ge`, `lt` and `le` compare strings lexicographically and numbers numerically. Two
    ///   dateTime strings (RFC 7643 §2.3.5) compare as instants, with `eq` and `ne` too: fractions of a second
    ///   and UTC offsets count, so `2026-12-04T03:48:15.1Z` is after `2026-12-04T03:48:15Z` and equal to
    ///   `2026-12-04T04:48:15.1+01:00`. Integers of 2^53 and more (``JSONValue/bigInteger(_:)``) compare exactly.
    /// - Booleans support only `eq` and `ne`; `co`, `sw` and `ew` only strings. Comparing values of
    ///   different types is false, whatever the operator.
    /// - A multi-valued attribute matches if any element matches. Elements that are objects are compared
    ///   through their `value` sub-attribute, so `emails co "example.com"` tests each address.
    /// - `pr` is true when the attribute has a value that is not `null`, `""`, `[]` or `{}`.
    /// - `ne` is true when the attribute is missing or null; `eq null` is true exactly then.
    /// - A value filter (`emails[type eq "work"]`) matches if any element satisfies the inner filter.
    /// - A filter that still contains a ``FilterValue/variable(_:)`` matches nothing: resolve it first
    ///   with ``resolvingVariables(_:)``.
    public func matches(_ resource: JSONValue) -> Bool {
        guard !FilterEvaluator.containsVariable(self) else { return false }
        return FilterEvaluator.evaluate(self, on: resource, exact: nil)
    }

    /// ``matches(_:)`` with string comparisons case-sensitive for the attributes `caseExact` names (RFC 7643
    /// §2.2 `caseExact`: from the server's schema when known, else ``CaseExactness/rfcDefaults``).
    public func matches(_ resource: JSONValue, caseExact: CaseExactness) -> Bool {
        guard !FilterEvaluator.containsVariable(self) else { return false }
        return FilterEvaluator.evaluate(self, on: resource, exact: caseExact)
    }
}

/// Which attributes compare their strings case-sensitively (RFC 7643 §2.2 `caseExact`).
public struct CaseExactness: Sendable, Hashable {
    /// Lower-cased attribute paths (`id`, `meta.version`, or a sub-attribute inside a value filter, `type`).
    public var paths: Set<String>

    /// The attributes named (any case).
    public init(_ paths: [String]) { self.paths = Set(paths.map { $0.lowercased() }) }

    /// RFC 7643's defaults for a User where no schema says otherwise: `id`, `externalId`, `meta.version` and
    /// `meta.resourceType` are caseExact (§3.1); every other string is not.
    public static let rfcDefaults = CaseExactness(["id", "externalId", "meta.version", "meta.resourceType"])

    /// Whether `path` is caseExact.
    public func isCaseExact(_ path: AttributePath) -> Bool {
        var key = path.name.lowercased()
        if let sub = path.subAttribute { key += "." + sub.lowercased() }
        return paths.contains(key)
    }
}

/// The local evaluator behind ``SCIMFilter/matches(_:)``.
enum FilterEvaluator {
    /// Whether a variable is left in the filter (a cheap walk: no sets, unlike ``SCIMFilter/features``).
    static func containsVariable(_ filter: SCIMFilter) -> Bool {
        // Down the left spine of and/or chains without recursion (the parser builds them left-nested).
        var node = filter
        while true {
            switch node {
            case .compare(_, _, .variable): return true
            case .compare, .present: return false
            case .and(let a, let b), .or(let a, let b):
                if containsVariable(b) { return true }
                node = a
            case .not(let a), .valuePath(_, let a): node = a
            }
        }
    }

    /// Evaluates without allocating for the common shapes: and/or chains are walked down their left spine,
    /// and a comparison with a single value skips gathering values into an array.
    static func evaluate(_ filter: SCIMFilter, on resource: JSONValue, exact: CaseExactness?) -> Bool {
        switch filter {
        case .and:
            var node = filter
            while case .and(let l, let r) = node {
                if !evaluate(r, on: resource, exact: exact) { return false }
                node = l
            }
            return evaluate(node, on: resource, exact: exact)
        case .or:
            var node = filter
            while case .or(let l, let r) = node {
                if evaluate(r, on: resource, exact: exact) { return true }
                node = l
            }
            return evaluate(node, on: resource, exact: exact)
        case .not(let inner):
            return !evaluate(inner, on: resource, exact: exact)
        case .present(let path):
            return values(of: path, in: resource).contains(where: isPresent)
        case .compare(_, _, .variable):
            return false
        case .compare(let path, let op, .literal(let literal)):
            let caseExact = exact?.isCaseExact(path) ?? false
            if path.subAttribute == nil {
                switch attribute(path, in: resource) {
                case nil: return compareSingle(nil, op, literal, caseExact: caseExact)
                case .array?, .object?: break
                case let value?: return compareSingle(value, op, literal, caseExact: caseExact)
                }
            }
            return compare(values(of: path, in: resource), op, literal, caseExact: caseExact)
        case .valuePath(let path, let inner):
            switch attribute(path, in: resource) {
            case .array(let elements)?: return elements.contains { evaluate(inner, on: $0, exact: exact) }
            case .object(let object)?: return evaluate(inner, on: .object(object), exact: exact)
            default: return false
            }
        }
    }

    /// The attribute named by `path` (ignoring its sub-attribute), found as ``SCIMFilter/matches(_:)`` says.
    static func attribute(_ path: AttributePath, in resource: JSONValue) -> JSONValue? {
        guard case .object(let object) = resource else { return nil }
        if let schema = path.schema, case .object(let ext)? = object[schema] {
            return ext[path.name]
        }
        if let value = object[path.name] { return value }
        guard path.schema == nil else { return nil }
        for member in object.members where member.key.lowercased().hasPrefix("urn:") {
            if case .object(let ext) = member.value, let value = ext[path.name] { return value }
        }
        return nil
    }

    /// The values to compare for `path`: multi-valued attributes give one value per element.
    static func values(of path: AttributePath, in resource: JSONValue) -> [JSONValue] {
        guard let value = attribute(path, in: resource) else { return [] }
        var out: [JSONValue] = []
        func addFlattening(_ v: JSONValue) {
            if case .array(let items) = v { out.append(contentsOf: items) } else { out.append(v) }
        }
        if let sub = path.subAttribute {
            switch value {
            case .array(let elements):
                for element in elements {
                    if case .object(let o) = element, let v = o[sub] { addFlattening(v) }
                }
            case .object(let o):
                if let v = o[sub] { addFlattening(v) }
            default:
                break
            }
        } else if case .array(let elements) = value {
            for element in elements {
                if case .object(let o) = element, let v = o["value"] { out.append(v) } else { out.append(element) }
            }
        } else {
            out.append(value)
        }
        return out
    }

    static func isPresent(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return false
        case .string(let s): return !s.isEmpty
        case .array(let a): return a.contains(where: isPresent)
        case .object(let o): return !o.isEmpty
        case .bool, .number, .bigInteger: return true
        }
    }

    static func compare(_ values: [JSONValue], _ op: CompareOperator, _ literal: JSONValue, caseExact: Bool) -> Bool {
        if let answer = decidedByPresence(values.contains { !$0.isNull }, op, literal) { return answer }
        return values.contains { !$0.isNull && compareOne($0, op, literal, caseExact: caseExact) }
    }

    /// ``compare(_:_:_:)`` for at most one value (`nil`: the attribute is missing).
    static func compareSingle(
        _ value: JSONValue?, _ op: CompareOperator, _ literal: JSONValue, caseExact: Bool
    ) -> Bool {
        let present = value.map { !$0.isNull } ?? false
        if let answer = decidedByPresence(present, op, literal) { return answer }
        guard present, let value else { return false }
        return compareOne(value, op, literal, caseExact: caseExact)
    }

    /// The answer when presence alone decides it (a `null` literal, or `ne` on a missing attribute), else nil.
    @inline(__always)
    static func decidedByPresence(_ present: Bool, _ op: CompareOperator, _ literal: JSONValue) -> Bool? {
        if literal.isNull {
            switch op {
            case .eq: return !present
            case .ne: return present
            default: return false
            }
        }
        if op == .ne && !present { return true }
        return nil
    }

    /// `eq`, `ne`, `co`, `sw` and `ew` on two ASCII strings, ignoring case, without allocating (a `where` over a
    /// list runs this for every record); nil for other text or operators, which take the general path.
    static func asciiCompare(_ a: String, _ op: CompareOperator, _ b: String) -> Bool? {
        switch op {
        case .eq, .ne, .co, .sw, .ew: break
        default: return nil
        }
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y -> Bool? in
                for c in x where c >= 0x80 { return nil }
                for c in y where c >= 0x80 { return nil }
                func lower(_ c: UInt8) -> UInt8 { c &- 65 < 26 ? c | 0x20 : c }
                func matches(at i: Int) -> Bool {
                    for j in 0..<y.count where lower(x[i + j]) != lower(y[j]) { return false }
                    return true
                }
                let fits = x.count >= y.count
                switch op {
                case .eq: return x.count == y.count && matches(at: 0)
                case .ne: return !(x.count == y.count && matches(at: 0))
                case .sw: return fits && matches(at: 0)
                case .ew: return fits && matches(at: x.count - y.count)
                default:
                    guard fits else { return false }
                    for i in 0...(x.count - y.count) where matches(at: i) { return true }
                    return false
                }
            }
        }
    }

    /// Two strings compared as they are (the caller lower-cases them for a comparison that ignores case).
    static func compareText(_ x: String, _ op: CompareOperator, _ y: String) -> Bool {
        switch op {
        case .eq: return x == y
        case .ne: return x != y
        case .co: return y.isEmpty || x.contains(y)
        case .sw: return x.hasPrefix(y)
        case .ew: return x.hasSuffix(y)
        case .gt: return x > y
        case .ge: return x >= y
        case .lt: return x < y
        case .le: return x <= y
        }
    }

    /// The answer of an ordering operator for an order (-1, 0, 1); `nil` for `co`, `sw` and `ew`.
    static func decide(_ op: CompareOperator, _ order: Int) -> Bool? {
        switch op {
        case .eq: return order == 0
        case .ne: return order != 0
        case .gt: return order > 0
        case .ge: return order >= 0
        case .lt: return order < 0
        case .le: return order <= 0
        case .co, .sw, .ew: return nil
        }
    }

    /// -1, 0 or 1 when both strings are dateTimes (RFC 7643 §2.3.5), compared as instants: fractions of a second
    /// and UTC offsets count (`03:48:15.198910Z` is after `03:48:15Z`; `04:48:15+01:00` is the same instant).
    /// `nil` when either is not a dateTime.
    static func chronologicalOrder(_ a: String, _ b: String) -> Int? {
        guard let x = UTCTime.instant(a), let y = UTCTime.instant(b) else { return nil }
        if x.seconds != y.seconds { return x.seconds < y.seconds ? -1 : 1 }
        if x.nanoseconds != y.nanoseconds { return x.nanoseconds < y.nanoseconds ? -1 : 1 }
        return 0
    }

    /// Compares by SCIM type (RFC 7643 §2.3): a boolean or a number written as text on one side (`active eq
    /// "true"`, `"42"` against 42) is compared as that type, as a lenient server reads it.
    static func compareOne(_ value: JSONValue, _ op: CompareOperator, _ literal: JSONValue, caseExact: Bool) -> Bool {
        switch (value, literal) {
        case (.bool, .string(let text)):
            guard let b = SCIMValueOrder.boolean(text) else { return false }
            return compareOne(value, op, .bool(b), caseExact: caseExact)
        case (.string(let text), .bool):
            guard let b = SCIMValueOrder.boolean(text) else { return false }
            return compareOne(.bool(b), op, literal, caseExact: caseExact)
        case (.number, .string(let text)):
            guard let n = SCIMValueOrder.number(text) else { return false }
            return compareOne(value, op, .number(n), caseExact: caseExact)
        case (.string(let text), .number):
            guard op != .co, op != .sw, op != .ew, let n = SCIMValueOrder.number(text) else { return false }
            return compareOne(.number(n), op, literal, caseExact: caseExact)
        case (.string(let a), .string(let b)):
            if let order = chronologicalOrder(a, b), let answer = decide(op, order) { return answer }
            if !caseExact, let fast = asciiCompare(a, op, b) { return fast }
            return caseExact ? compareText(a, op, b) : compareText(a.lowercased(), op, b.lowercased())
        case (.number, _), (.bigInteger, _):
            guard let order = JSONValue.numericOrder(value, literal) else { return false }
            return decide(op, order) ?? false
        case (.bool(let a), .bool(let b)):
            switch op {
            case .eq: return a == b
            case .ne: return a != b
            default: return false
            }
        default:
            return false
        }
    }
}

/// Values ordered by their SCIM type (RFC 7643 §2.3), for sorting: numbers numerically, booleans false first,
/// dateTimes chronologically, other strings case-insensitively (or exactly, for caseExact attributes).
public enum SCIMValueOrder {
    /// -1, 0 or 1. A number or boolean written as text compares with a number or boolean as that type; other
    /// mixed types compare by their text.
    public static func compare(_ a: JSONValue, _ b: JSONValue, caseExact: Bool = false) -> Int {
        if let order = JSONValue.numericOrder(a, b) { return order }
        switch (a, b) {
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.number, .string(let t)):
            if let y = number(t) { return compare(a, .number(y)) }
        case (.string(let t), .number):
            if let x = number(t) { return compare(.number(x), b) }
        case (.bool, .string(let t)):
            if let y = boolean(t) { return compare(a, .bool(y)) }
        case (.string(let t), .bool):
            if let x = boolean(t) { return compare(.bool(x), b) }
        case (.string(let s), .string(let t)):
            if let order = FilterEvaluator.chronologicalOrder(s, t) { return order }
        default:
            break
        }
        let s = caseExact ? a.displayString : a.displayString.lowercased()
        let t = caseExact ? b.displayString : b.displayString.lowercased()
        return s < t ? -1 : s > t ? 1 : 0
    }

    /// `true` or `false` written as text (any case), else `nil`.
    static func boolean(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    /// A decimal or integer written as text (`42`, `-1.5`, `1e3`), else `nil`; not `nan`, `inf` or hex.
    static func number(_ text: String) -> Double? {
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || (first >= 48 && first <= 57),
            text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || "-+.eE".utf8.contains($0) }),
            let value = Double(text), value.isFinite
        else { return nil }
        return value
    }
}
