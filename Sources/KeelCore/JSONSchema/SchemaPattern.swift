/// A `pattern` / `patternProperties` regular expression, compiled once with the schema.
///
/// JSON Schema names ECMA-262's syntax with the `u` flag: matching by Unicode scalar, `\d` and `\w`
/// ASCII-only, `\b` on ASCII word characters, `^`/`$` at the ends of the whole string, `.` not
/// matching line terminators, search unanchored as in JavaScript's `RegExp.prototype.test`.
///
/// Schemas come from flow authors and strings from anyone who may trigger a run, so the match must
/// be bounded whatever either holds. `PatternMatcher` does not backtrack (time grows with the string
/// times the pattern, never exponentially), and every match has a budget of executed instructions
/// (`JSONSchema.Limits.maximumPatternSteps`) that also bounds lookarounds. Backreferences, which no
/// linear-time matcher can do, are refused where the pattern is written.
struct SchemaPattern: Sendable {
    /// The pattern as written in the schema.
    let source: String
    private let program: PatternProgram

    /// Compiles `source`; throws a message describing the syntax error or the refused construct.
    init(_ source: String) throws(SchemaPatternError) {
        do {
            program = try PatternProgram(try PatternParser.parse(source))
        } catch {
            throw SchemaPatternError(message: error.description)
        }
        self.source = source
    }

    /// True when the pattern matches anywhere in `string`; nil when deciding would take more than
    /// `budget` matcher steps.
    func matches(_ string: String, budget: Int) -> Bool? {
        try? PatternMatcher.search(program, in: string, budget: budget)
    }
}

/// Why a pattern did not compile.
struct SchemaPatternError: Error {
    let message: String
}
