extension SCIMFilter: CustomStringConvertible {
    /// The filter as canonical SCIM text, which ``FilterParser`` parses back to an equal filter.
    ///
    /// Operators and keywords are lowercase, strings are JSON-quoted, attribute paths keep the case they
    /// were written in, and parentheses appear only where precedence needs them (`not` always takes
    /// them: `not (title pr)`). A variable prints as `$name`.
    public var description: String {
        var out = ""
        FilterPrinter.write(self, minLevel: 0, into: &out)
        return out
    }

    /// An indented parse tree, one node per line, for showing how a filter was understood.
    ///
    /// `title pr and userType eq "Employee"` gives:
    /// ```
    /// and
    ///   pr title
    ///   eq userType "Employee"
    /// ```
    public func treeDescription() -> String {
        var lines: [String] = []
        FilterPrinter.tree(self, indent: 0, into: &lines)
        return lines.joined(separator: "\n")
    }

    /// The filter with every ``FilterValue/variable(_:)`` replaced by the literal `lookup` returns.
    public func resolvingVariables(_ lookup: (String) throws -> JSONValue) rethrows -> SCIMFilter {
        switch self {
        case .compare(let path, let op, .variable(let name)):
            return .compare(path, op, .literal(try lookup(name)))
        case .compare, .present:
            return self
        case .and, .or:
            // Long chains are walked as lists, so their length does not deepen the recursion.
            let isOr: Bool
            if case .or = self { isOr = true } else { isOr = false }
            var operands = FilterPrinter.chain(self, isOr: isOr)[...]
            guard let first = operands.popFirst() else { return self }
            var result = try first.resolvingVariables(lookup)
            for operand in operands {
                let resolved = try operand.resolvingVariables(lookup)
                result = isOr ? .or(result, resolved) : .and(result, resolved)
            }
            return result
        case .not(let f):
            return .not(try f.resolvingVariables(lookup))
        case .valuePath(let path, let f):
            return .valuePath(path, try f.resolvingVariables(lookup))
        }
    }
}

extension FilterValue: CustomStringConvertible {
    /// The value as filter text: a JSON literal, or `$name` for a variable.
    public var description: String {
        switch self {
        case .variable(let name): return "$" + name
        case .literal(.string(let s)): return JSONEncoderFast.quote(s)
        case .literal(let v): return JSONEncoderFast.encode(v)
        }
    }
}

/// Writes filters as text and as trees.
enum FilterPrinter {
    /// Precedence levels: `or` 1, `and` 2, everything else binds tightest.
    static let orLevel = 1
    static let andLevel = 2

    /// The operands of a left-leaning chain `((a op b) op c)`, leftmost first, collected without recursion.
    static func chain(_ filter: SCIMFilter, isOr: Bool) -> [SCIMFilter] {
        var rights: [SCIMFilter] = []
        var current = filter
        while true {
            switch current {
            case .or(let l, let r) where isOr:
                rights.append(r)
                current = l
                continue
            case .and(let l, let r) where !isOr:
                rights.append(r)
                current = l
                continue
            default:
                break
            }
            break
        }
        rights.append(current)
        return rights.reversed()
    }

    static func write(_ filter: SCIMFilter, minLevel: Int, into out: inout String) {
        switch filter {
        case .compare(let path, let op, let value):
            out += "\(path) \(op.rawValue) \(value)"
        case .present(let path):
            out += "\(path) pr"
        case .not(let inner):
            out += "not ("
            write(inner, minLevel: 0, into: &out)
            out += ")"
        case .valuePath(let path, let inner):
            out += "\(path)["
            write(inner, minLevel: 0, into: &out)
            out += "]"
        case .or, .and:
            let isOr: Bool
            if case .or = filter { isOr = true } else { isOr = false }
            let level = isOr ? orLevel : andLevel
            let parenthesise = minLevel > level
            if parenthesise { out += "(" }
            for (i, operand) in chain(filter, isOr: isOr).enumerated() {
                if i > 0 { out += isOr ? " or " : " and " }
                // The leftmost operand may be a looser chain only through parentheses; right operands of the
                // same operator need them to keep left associativity.
                write(operand, minLevel: i == 0 ? level : level + 1, into: &out)
            }
            if parenthesise { out += ")" }
        }
    }

    static func tree(_ filter: SCIMFilter, indent: Int, into lines: inout [String]) {
        // Depth-first with an explicit stack: a long chain is as deep as it is long.
        var pending: [(SCIMFilter, Int)] = [(filter, indent)]
        while let (node, level) = pending.popLast() {
            let pad = String(repeating: "  ", count: level)
            switch node {
            case .compare(let path, let op, let value):
                lines.append("\(pad)\(op.rawValue) \(path) \(value)")
            case .present(let path):
                lines.append("\(pad)pr \(path)")
            case .and(let l, let r), .or(let l, let r):
                if case .or = node { lines.append("\(pad)or") } else { lines.append("\(pad)and") }
                pending.append((r, level + 1))
                pending.append((l, level + 1))
            case .not(let inner):
                lines.append("\(pad)not")
                pending.append((inner, level + 1))
            case .valuePath(let path, let inner):
                lines.append("\(pad)\(path)[...]")
                pending.append((inner, level + 1))
            }
        }
    }
}

/// What a filter uses, for checking it against a server dialect that supports only part of the language.
public struct FilterFeatures: Sendable, Hashable {
    /// The comparison operators used (`pr` is ``usesPresent``).
    public var operators: Set<CompareOperator> = []
    /// Whether `attr pr` appears.
    public var usesPresent = false
    /// Whether `and` appears.
    public var usesAnd = false
    /// Whether `or` appears.
    public var usesOr = false
    /// Whether `not (...)` appears.
    public var usesNot = false
    /// Whether a value filter (`emails[...]`) appears.
    public var usesValuePath = false
    /// The variable names referenced, first use first, without repeats.
    public var variables: [String] = []
    /// The attribute paths compared, first use first, without repeats; see ``SCIMFilter/attributePaths``.
    public var attributePaths: [AttributePath] = []

    /// An empty summary.
    public init() {}
}

extension SCIMFilter {
    /// A summary of the operators, connectives, value filters, variables and attributes the filter uses.
    public var features: FilterFeatures {
        var f = FilterFeatures()
        var seenPaths: Set<AttributePath> = []
        var seenVariables: Set<String> = []
        func addPath(_ p: AttributePath) {
            if seenPaths.insert(p).inserted { f.attributePaths.append(p) }
        }
        // Depth-first, left to right, without recursion; `prefix` is the enclosing value path, if any.
        var stack: [(SCIMFilter, AttributePath?)] = [(self, nil)]
        while let (node, prefix) = stack.popLast() {
            func qualified(_ p: AttributePath) -> AttributePath {
                guard let prefix else { return p }
                return AttributePath(schema: prefix.schema ?? p.schema, name: prefix.name, subAttribute: p.name)
            }
            switch node {
            case .compare(let path, let op, let value):
                f.operators.insert(op)
                addPath(qualified(path))
                if case .variable(let name) = value, seenVariables.insert(name).inserted { f.variables.append(name) }
            case .present(let path):
                f.usesPresent = true
                addPath(qualified(path))
            case .and(let l, let r):
                f.usesAnd = true
                stack.append((r, prefix))
                stack.append((l, prefix))
            case .or(let l, let r):
                f.usesOr = true
                stack.append((r, prefix))
                stack.append((l, prefix))
            case .not(let inner):
                f.usesNot = true
                stack.append((inner, prefix))
            case .valuePath(let path, let inner):
                f.usesValuePath = true
                addPath(path)
                stack.append((inner, path))
            }
        }
        return f
    }

    /// The comparison operators used (`pr` is reported by ``usesPresent``).
    public var operators: Set<CompareOperator> { features.operators }
    /// Whether `attr pr` appears.
    public var usesPresent: Bool { features.usesPresent }
    /// Whether `or` appears.
    public var usesOr: Bool { features.usesOr }
    /// Whether `not (...)` appears.
    public var usesNot: Bool { features.usesNot }
    /// Whether any value is still a variable (see ``resolvingVariables(_:)``).
    public var usesVariables: Bool { !features.variables.isEmpty }

    /// The attribute paths the filter reads, first use first, without repeats.
    ///
    /// A value filter contributes its own attribute and, for each attribute inside it, the qualified
    /// sub-attribute: `emails[type eq "work"]` gives `emails` and `emails.type`.
    public var attributePaths: [AttributePath] { features.attributePaths }
}
