/// A `pattern` / `patternProperties` regular expression, compiled once with the schema.
///
/// Swift Regex is configured to behave like ECMA-262 with the `u` flag, which JSON Schema asks for:
/// matching by Unicode scalar (not by grapheme cluster), `\d` and `\w` ASCII-only, simple `\b` word
/// boundaries, `^`/`$` anchored at the ends of the whole string, `.` not matching line breaks.
/// Search is unanchored, as in JavaScript's `RegExp.prototype.test`.
///
/// `Regex` is not declared Sendable, but a compiled regex is immutable; its lazily built matcher is
/// forced here at compile time (by one match) so instances shared across threads never mutate.
///
/// Swift Regex backtracks and has no step limit, and schemas come from flow authors, so matching has a
/// budget of its own: a pattern whose nested repetitions backtrack exponentially (`(a+)+`) is refused
/// when the schema compiles, and a string longer than `maximumLength` is not matched at all.
struct SchemaPattern: @unchecked Sendable {
    /// The pattern as written in the schema.
    let source: String
    private let regex: Regex<AnyRegexOutput>

    /// The longest string, in Unicode scalars, a pattern is matched against. It bounds the polynomial
    /// backtracking that can remain (`a*a*a*b`) to well under a second.
    static let maximumLength = 10_000

    /// Compiles `source`; throws a message describing the syntax error or the refused shape.
    init(_ source: String) throws(SchemaPatternError) {
        if let nested = SchemaPatternNesting.nestedQuantifier(in: source) {
            throw SchemaPatternError(
                message:
                    "\(nested) repeats a group that itself repeats, which can take exponential time to match; rewrite it without the nested repetition"
            )
        }
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(source)
                .matchingSemantics(.unicodeScalar)
                .asciiOnlyDigits()
                .asciiOnlyWordCharacters()
                .wordBoundaryKind(.simple)
                .anchorsMatchLineEndings(false)
                .dotMatchesNewlines(false)
        } catch {
            throw SchemaPatternError(message: String(describing: error))
        }
        _ = "".contains(regex)
        self.source = source
        self.regex = regex
    }

    /// True when the pattern matches anywhere in `string`; nil when `string` is longer than
    /// `maximumLength`, so the match is not tried.
    func matches(_ string: String) -> Bool? {
        guard !string.unicodeScalars.dropFirst(Self.maximumLength).contains(where: { _ in true }) else {
            return nil
        }
        return string.contains(regex)
    }
}

/// Why a pattern did not compile.
struct SchemaPatternError: Error {
    let message: String
}
