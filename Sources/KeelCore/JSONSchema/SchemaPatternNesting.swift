/// Finds the pattern shape that makes a backtracking matcher (Swift Regex is one) take exponential time:
/// a group repeated a variable number of times that itself holds a variable repetition and nothing
/// that must appear once per round, like `(a+)+`, `(\w*\s?)*` or `((ab)+c?)*`. Against `"aaaa…a!"`
/// such a pattern tries every way of splitting the input between the two repetitions before it fails,
/// which pins a CPU for minutes on a few dozen characters.
///
/// A group with a fixed separator, as in `^[a-z]+(-[a-z]+)*$` or `([a-z0-9]+\.)*`, is allowed: each
/// round must consume its separator, which usually leaves one way to split the input. (Usually: a
/// separator the repeated part can also match, as in `(a+a)+`, still backtracks; such patterns are
/// not caught here.) A light scan of the source, not a full parser: it knows escapes, character
/// classes, groups, alternation and quantifiers, which is all this shape needs.
enum SchemaPatternNesting {
    /// An open group while scanning.
    private struct Group {
        var start: Int
        /// Whether something inside repeats a variable number of times.
        var variable = false
        /// Whether every branch so far has an atom that must match exactly once per match of the group.
        var earlierBranchesFixed = true
        var branchFixed = false
        /// Lookarounds match no characters, so they separate nothing.
        var zeroWidth = false

        var fixed: Bool { earlierBranchesFixed && branchFixed && !zeroWidth }
    }

    /// An atom whose quantifier, if any, comes next.
    private struct Atom {
        var start: Int
        var group: Group?
        /// A single character, escape or class (not an anchor or word boundary).
        var consumes: Bool
    }

    /// The first repeated group that holds a variable repetition and no fixed separator, as written
    /// (e.g. `(a+)+`), or nil.
    static func nestedQuantifier(in source: String) -> Substring? {
        let scalars = Array(source.unicodeScalars)
        let offsets = Array(source.unicodeScalars.indices) + [source.endIndex]
        var groups = [Group(start: 0)]
        var pending: Atom?
        var index = 0

        /// Ends the pending atom with `repetition` (nil: none): returns the offending group, if any.
        func settle(_ repetition: (variable: Bool, fixed: Bool, end: Int)?) -> Substring? {
            defer { pending = nil }
            guard let atom = pending else { return nil }
            let last = groups.count - 1
            let repeatsVariably = repetition?.variable ?? false
            let once = repetition.map(\.fixed) ?? true
            if let group = atom.group {
                if let repetition, repetition.variable, group.variable, !group.fixed {
                    return source[offsets[atom.start]..<offsets[repetition.end]]
                }
                groups[last].variable = groups[last].variable || group.variable || repeatsVariably
                if once, group.fixed { groups[last].branchFixed = true }
            } else {
                groups[last].variable = groups[last].variable || repeatsVariably
                if once, atom.consumes { groups[last].branchFixed = true }
            }
            return nil
        }

        while index < scalars.count {
            let scalar = scalars[index]
            var repetition: (variable: Bool, fixed: Bool, end: Int)?
            switch scalar {
            case "*", "+":
                repetition = (true, false, index + 1)
            case "?":
                repetition = (false, false, index + 1)
            case "{":
                repetition = counted(scalars, from: index)
            default:
                break
            }
            if let repetition, pending != nil {
                if let found = settle(repetition) { return found }
                index = repetition.end
                // A lazy or possessive marker belongs to the quantifier.
                if index < scalars.count, scalars[index] == "?" || scalars[index] == "+" { index += 1 }
                continue
            }
            if let found = settle(nil) { return found }
            switch scalar {
            case "\\":
                let next = index + 1 < scalars.count ? scalars[index + 1] : "\\"
                pending = Atom(start: index, group: nil, consumes: !"bB".unicodeScalars.contains(next))
                index += 2
            case "[":
                pending = Atom(start: index, group: nil, consumes: true)
                index = endOfClass(scalars, from: index)
            case "(":
                var group = Group(start: index)
                let rest = String(String.UnicodeScalarView(scalars[index...].prefix(4)))
                group.zeroWidth = ["(?=", "(?!", "(?<=", "(?<!"].contains { rest.hasPrefix($0) }
                groups.append(group)
                index = endOfGroupOpening(scalars, from: index)
            case ")":
                if groups.count > 1, let group = groups.popLast() {
                    pending = Atom(start: group.start, group: group, consumes: true)
                }
                index += 1
            case "|":
                let last = groups.count - 1
                groups[last].earlierBranchesFixed =
                    groups[last].earlierBranchesFixed && groups[last].branchFixed
                groups[last].branchFixed = false
                index += 1
            case "^", "$":
                index += 1
            default:
                pending = Atom(start: index, group: nil, consumes: true)
                index += 1
            }
        }
        return settle(nil)
    }

    /// The position after a group's opening: `(`, plus `?:`, `?=`, `?!`, `?<=`, `?<!`, `?<name>` or
    /// flags like `?i:` when present, so they are not read as a quantifier or a character.
    private static func endOfGroupOpening(_ scalars: [Unicode.Scalar], from start: Int) -> Int {
        var index = start + 1
        guard index < scalars.count, scalars[index] == "?" else { return index }
        index += 1
        while index < scalars.count {
            switch scalars[index] {
            case ":", "=", "!", ">":
                return index + 1
            case ")":
                return index
            case "<" where index + 1 < scalars.count && "=!".unicodeScalars.contains(scalars[index + 1]):
                return index + 2
            default:
                index += 1
            }
        }
        return index
    }

    /// The position after the `]` closing the class that opens at `start`.
    private static func endOfClass(_ scalars: [Unicode.Scalar], from start: Int) -> Int {
        var index = start + 1
        while index < scalars.count {
            switch scalars[index] {
            case "\\": index += 2
            case "]": return index + 1
            default: index += 1
            }
        }
        return index
    }

    /// A `{n}`, `{n,}` or `{n,m}` quantifier at `start`: whether it repeats variably, whether it means
    /// exactly once, and where it ends. Nil when the brace is a literal one.
    private static func counted(_ scalars: [Unicode.Scalar], from start: Int)
        -> (variable: Bool, fixed: Bool, end: Int)?
    {
        var index = start + 1
        func number() -> Int? {
            var value: Int?
            while index < scalars.count, ("0"..."9").contains(scalars[index]) {
                value = min((value ?? 0) * 10 + Int(scalars[index].value - 48), 1_000_000)
                index += 1
            }
            return value
        }
        guard let low = number(), index < scalars.count else { return nil }
        if scalars[index] == "}" { return (false, low == 1, index + 1) }
        guard scalars[index] == "," else { return nil }
        index += 1
        let high = number()
        guard index < scalars.count, scalars[index] == "}" else { return nil }
        return (high.map { $0 > low } ?? true, low == 1 && high == 1, index + 1)
    }
}
