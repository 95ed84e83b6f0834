import KeelCore
import Testing

@Suite("Expression fuzzing")
struct ExpressionFuzzTests {
    static let seeds = [
        "steps.patch.outputs.diff != null && (run.attempt > 1 || !input.flag)",
        "contains(input.names, 'bob') && startsWith(input.repo, 'keel') || endsWith('a', 'b')",
        "format('{0}-{1}', input.list[3].four, toJSON(fromJSON('[1,{\"a\":2}]')))",
        "join(input.names, ', ') == 'ann, bob' && input['odd key'] <= 'z'",
        "secrets.TOKEN == 'x' || steps.review.decision == 'approve' && run.correlation_id",
        "!(input.count >= 3.5e0) == (input.nested.a.b['c'] < 'e')",
    ]

    static let fragments = [
        "(", ")", "[", "]", ".", ",", "!", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "'", "''",
        "'x'",
        "0", "-1", "1.5e3", "01", "1e999999999999", "true", "false", "null", "input", "steps", "run",
        "secrets",
        "outputs", "status", "decision", "contains(", "format(", "fromJSON(", "toJSON(", "join(",
        "startsWith(",
        "endsWith(", "{0}", "}}", "${{", " ", "\n", "é", "\u{0}", "🙂", "input.list[", "steps.patch.",
        "=", "&",
        "|", "#", "-", "\\", "\"",
    ]

    private static let context = ExpressionFixture.context()

    /// Evaluates `source` as an expression and as a template; both must return or throw, nothing else.
    private static func exercise(_ source: String) -> Int {
        var outcomes = 0
        if let expression = try? Expression(parsing: source) {
            _ = try? expression.evaluate(in: context)
            outcomes += 1
        }
        if let template = try? ExpressionTemplate(parsing: "a ${{ \(source) }} b") {
            var used: [String] = []
            _ = try? template.evaluate(in: context, usedSecrets: &used)
            outcomes += 1
        }
        return outcomes
    }

    @Test("thousands of mutated expressions give a value or an ExpressionError")
    func mutations() {
        var generator = SplitMix64(seed: 0x6B65_656C)
        var parsed = 0
        for round in 0..<4_000 {
            var scalars = Array(Self.seeds[round % Self.seeds.count].unicodeScalars)
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0...scalars.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0 where !scalars.isEmpty:
                    scalars.remove(at: min(position, scalars.count - 1))
                case 1:
                    let fragment = Self.fragments.randomElement(using: &generator) ?? ""
                    scalars.insert(contentsOf: fragment.unicodeScalars, at: position)
                case 2 where !scalars.isEmpty:
                    let end = min(scalars.count, position + Int.random(in: 1...8, using: &generator))
                    scalars.removeSubrange(min(position, end)..<end)
                default:
                    let other = Array(
                        Self.seeds.randomElement(using: &generator)?.unicodeScalars ?? "".unicodeScalars)
                    let cut = Int.random(in: 0...other.count, using: &generator)
                    scalars.insert(contentsOf: other[cut...], at: position)
                }
            }
            parsed += Self.exercise(String(String.UnicodeScalarView(scalars)))
        }
        // Mutations must still leave a good share of valid expressions, or this tests only the lexer.
        #expect(parsed > 400)
    }

    @Test("thousands of random token soups give a value or an ExpressionError")
    func randomSoups() {
        var generator = SplitMix64(seed: 42)
        var errors = 0
        for _ in 0..<4_000 {
            let count = Int.random(in: 0...20, using: &generator)
            let source = (0..<count).map { _ in Self.fragments.randomElement(using: &generator) ?? "" }
                .joined(separator: Bool.random(using: &generator) ? " " : "")
            do {
                _ = try Expression(parsing: source).evaluate(in: Self.context)
            } catch {
                errors += 1
                #expect(error.column >= 1)
                #expect(error.column <= source.unicodeScalars.count + 1)
            }
            _ = Self.exercise(source)
        }
        #expect(errors > 0)
    }

    @Test("random templates with braces and dollars give a value or an ExpressionError")
    func randomTemplates() {
        var generator = SplitMix64(seed: 7)
        let pieces = [
            "$", "$$", "{", "{{", "}", "}}", "${{", "$${{", " input.repo ", "'", "x", "\n", "1", "'}}'",
        ]
        var literal = 0
        for _ in 0..<3_000 {
            let source = (0..<Int.random(in: 0...12, using: &generator))
                .map { _ in pieces.randomElement(using: &generator) ?? "" }.joined()
            if let template = try? ExpressionTemplate(parsing: source) {
                if template.isLiteral { literal += 1 }
                _ = try? template.evaluate(in: Self.context)
            }
        }
        #expect(literal > 0)
    }
}
