/// A `pattern` / `patternProperties` regular expression, compiled once with the schema.
///
/// Swift Regex is configured to behave like ECMA-262 with the `u` flag, which JSON Schema asks for:
/// matching by Unicode scalar (not by grapheme cluster), `\d` and `\w` ASCII-only, simple `\b` word
/// boundaries, `^`/`$` anchored at the ends of the whole string, `.` not matching line breaks.
/// Search is unanchored, as in JavaScript's `RegExp.prototype.test`.
///
/// `Regex` is not declared Sendable, but a compiled regex is immutable; its lazily built matcher is
/// forced here at compile time (by one match) so instances shared across threads never mutate.
struct SchemaPattern: @unchecked Sendable {
    /// The pattern as written in the schema.
    let source: String
    private let regex: Regex<AnyRegexOutput>

    /// Compiles `source`; throws a message describing the syntax error.
    init(_ source: String) throws(SchemaPatternError) {
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

    /// True when the pattern matches anywhere in `string`.
    func matches(_ string: String) -> Bool {
        string.contains(regex)
    }
}

/// Why a pattern did not compile.
struct SchemaPatternError: Error {
    let message: String
}
