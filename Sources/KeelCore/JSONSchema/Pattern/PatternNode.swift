/// The parsed form of a schema `pattern`: the ECMA-262 regular expression syntax (with the `u` flag)
/// that JSON Schema names, less what a linear-time matcher cannot do (backreferences).
///
/// Captures are not kept: a schema only asks whether a pattern matches, so a capturing group and a
/// non-capturing one are the same node here.
indirect enum PatternNode: Sendable, Equatable {
    /// Matches the empty string (an empty alternative, `()`).
    case empty
    /// One Unicode scalar, by value. A lone surrogate written as `\uD800` is kept as its value and so
    /// never matches: a Swift string cannot hold one.
    case scalar(UInt32)
    /// One scalar from a set: a class `[...]`, `.`, `\d`, `\p{Letter}`.
    case set(PatternCharacterSet)
    /// A zero-width test of the position.
    case assertion(PatternAssertion)
    /// `(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)`.
    case look(PatternNode, behind: Bool, negated: Bool)
    /// Nodes matched one after another.
    case sequence([PatternNode])
    /// `a|b|c`.
    case alternation([PatternNode])
    /// A quantified node; `maximum` nil means unbounded. Greedy and lazy quantifiers are the same
    /// here: whether a match exists does not depend on which one is preferred.
    case repetition(PatternNode, minimum: Int, maximum: Int?)
}

/// A zero-width test of where the matcher stands.
enum PatternAssertion: Sendable, Equatable {
    /// `^`: the start of the string (JSON Schema patterns have no multiline flag).
    case start
    /// `$`: the end of the string.
    case end
    /// `\b`: between an ASCII word character and anything else.
    case wordBoundary
    /// `\B`.
    case notWordBoundary
}
