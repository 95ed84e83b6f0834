import KeelCore
import Testing

/// A context and helpers shared by the expression tests.
enum ExpressionFixture {
    static let input: JSONValue = [
        "repo": "keel/core",
        "task": "fix it",
        "count": 3,
        "ratio": 0.5,
        "flag": true,
        "empty": "",
        "nothing": nil,
        "list": [1, "two", [3], ["four": 4]],
        "names": ["ann", "bob"],
        "nested": ["a": ["b": ["c": "deep"]]],
        "odd key": "odd",
        "big": 12_345_678_901_234_567,
    ]

    static let run = RunContext(
        id: "0190f1d2-0000-7000-8000-000000000001", flow: "safe-code-change", version: 7,
        correlationID: "corr-1", actor: "alice", attempt: 2)

    static let steps: [String: StepContext] = [
        "patch": StepContext(outputs: ["diff": "--- a\n+++ b", "lines": 12], status: .succeeded),
        "test": StepContext(status: .failed),
        "review": StepContext(status: .succeeded, decision: .requestChanges),
        "bench": StepContext(status: .timedOut),
    ]

    static let secrets: [String: String] = [
        "TOKEN": "s3cr3t-token", "EMPTY": "", "JSON": #"{"k":"v"}"#,
    ]

    static func context(
        input: JSONValue = input, limits: ExpressionLimits = .default,
        secrets: [String: String] = secrets
    ) -> ExpressionContext {
        ExpressionContext(
            input: input, steps: steps, run: run, limits: limits, secrets: { secrets[$0] })
    }

    /// Compiles and evaluates an expression body against the standard context.
    static func evaluate(_ source: String, in context: ExpressionContext = context())
        throws(ExpressionError) -> JSONValue
    {
        try Expression(parsing: source).evaluate(in: context)
    }

    /// The error compiling or evaluating `source` throws; records a test failure when none is thrown.
    static func error(
        _ source: String, in context: ExpressionContext = context(),
        limits: ExpressionLimits = .default,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> ExpressionError? {
        do {
            let value = try Expression(parsing: source, limits: limits).evaluate(in: context)
            Issue.record(
                "expected an error from \(source.prefix(100)), got \(value.description.prefix(100))",
                sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }
}
