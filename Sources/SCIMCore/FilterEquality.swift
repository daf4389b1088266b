// `SCIMFilter` is a recursive enum, and a long `a or b or c ...` chain is a tree as deep as it is long. The
// synthesized `==` and `hash(into:)` recurse once per level with large frames in debug builds (about 1.3 KB:
// a 400-term chain overflowed a 512 KB thread stack), so these walk the tree with an explicit stack instead.

extension SCIMFilter {
    /// Whether two filters are the same tree (attribute paths compared exactly, as written).
    public static func == (lhs: SCIMFilter, rhs: SCIMFilter) -> Bool {
        var pending: [(SCIMFilter, SCIMFilter)] = [(lhs, rhs)]
        while let (a, b) = pending.popLast() {
            switch (a, b) {
            case (.compare(let p1, let o1, let v1), .compare(let p2, let o2, let v2)):
                guard p1 == p2, o1 == o2, v1 == v2 else { return false }
            case (.present(let p1), .present(let p2)):
                guard p1 == p2 else { return false }
            case (.and(let l1, let r1), .and(let l2, let r2)), (.or(let l1, let r1), .or(let l2, let r2)):
                pending.append((r1, r2))
                pending.append((l1, l2))
            case (.not(let f1), .not(let f2)):
                pending.append((f1, f2))
            case (.valuePath(let p1, let f1), .valuePath(let p2, let f2)):
                guard p1 == p2 else { return false }
                pending.append((f1, f2))
            default:
                return false
            }
        }
        return true
    }

    /// Hashes the whole tree, consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        var pending: [SCIMFilter] = [self]
        while let node = pending.popLast() {
            switch node {
            case .compare(let path, let op, let value):
                hasher.combine(0)
                hasher.combine(path)
                hasher.combine(op)
                hasher.combine(value)
            case .present(let path):
                hasher.combine(1)
                hasher.combine(path)
            case .and(let l, let r):
                hasher.combine(2)
                pending.append(r)
                pending.append(l)
            case .or(let l, let r):
                hasher.combine(3)
                pending.append(r)
                pending.append(l)
            case .not(let f):
                hasher.combine(4)
                pending.append(f)
            case .valuePath(let path, let f):
                hasher.combine(5)
                hasher.combine(path)
                pending.append(f)
            }
        }
    }
}
