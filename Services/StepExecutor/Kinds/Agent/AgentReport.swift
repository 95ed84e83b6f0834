import KeelCore

/// What an agent's tool said about its own work, read from its transcript (or, for `custom`, from
/// `$KEEL_OUTPUT`): its final message, what it spent, and whether it reported that it failed.
struct AgentReport: Sendable, Hashable {
    var finalMessage: String?
    var usage = AgentUsage()
    /// The tool's own report of a failed run (Claude Code's `is_error`, Codex's `turn.failed`).
    var error: String?
}

/// Tokens and cost as the tool reports them; a field the tool does not report stays nil.
struct AgentUsage: Sendable, Hashable {
    var inputTokens: Double?
    var outputTokens: Double?
    /// Input tokens read from the provider's prompt cache (Claude Code, Codex).
    var cacheReadTokens: Double?
    /// Input tokens written to the provider's prompt cache (Claude Code).
    var cacheWriteTokens: Double?
    /// In US dollars, as Claude Code and aider report it.
    var costUSD: Double?

    /// The `usage` output's keys and the fields they hold.
    static var fields: [(key: String, path: WritableKeyPath<AgentUsage, Double?>)] {
        [
            ("input_tokens", \.inputTokens), ("output_tokens", \.outputTokens),
            ("cache_read_input_tokens", \.cacheReadTokens),
            ("cache_creation_input_tokens", \.cacheWriteTokens),
            ("cost_usd", \.costUSD),
        ]
    }

    var isEmpty: Bool { Self.fields.allSatisfy { self[keyPath: $0.path] == nil } }

    /// Adds `amount` to a field, which stops being "not reported".
    mutating func add(_ amount: Double, to field: WritableKeyPath<AgentUsage, Double?>) {
        self[keyPath: field] = (self[keyPath: field] ?? 0) + amount
    }

    /// The step's `usage` output: only the fields the tool reported.
    var jsonValue: JSONValue {
        var object = JSONObject()
        for (key, path) in Self.fields {
            if let value = self[keyPath: path], let number = JSONNumber(value) {
                object[key] = .number(number)
            }
        }
        return .object(object)
    }

    /// What the attempt spent for the run's budget: every token the tool counted, and its cost.
    var spent: Usage {
        let tokens = [inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens].compactMap { $0 }
        return Usage(tokens: tokens.reduce(0, +), money: costUSD ?? 0)
    }

    init() {}

    /// Reads the `usage` object a `custom` agent wrote (or an agent step's `usage` output): the documented
    /// keys, each a number from 0 up; other keys are ignored.
    init(json: JSONValue, field: String) throws(UsageProblem) {
        guard case .object(let object) = json else {
            throw UsageProblem(field: field, message: "expected an object; got \(json.typeName)")
        }
        for (key, path) in Self.fields {
            guard let value = object[key] else { continue }
            guard case .number(let number) = value else {
                throw UsageProblem(
                    field: field, key: key, message: "expected a number; got \(value.typeName)")
            }
            let amount = number.doubleValue
            guard amount >= 0, amount <= Usage.maximumAmount else {
                throw UsageProblem(
                    field: field, key: key, message: "expected a number from 0 to 1e15; got \(number)")
            }
            self[keyPath: path] = amount
        }
    }
}

/// Reads one tool's transcript, a line at a time, as the tool writes it.
protocol AgentTranscriptReader: Sendable {
    /// One line of the transcript, without its line break, secrets already masked.
    mutating func read(line: Substring)
    /// What the transcript has said so far.
    var report: AgentReport { get }
}

extension AgentAdapter {
    /// A fresh reader of this tool's transcript; nil for `custom`, whose transcript is free text and whose
    /// report is in `$KEEL_OUTPUT`.
    func transcriptReader() -> (any AgentTranscriptReader)? {
        switch self {
        case .claudeCode: ClaudeCodeTranscript()
        case .codex: CodexTranscript()
        case .aider: AiderTranscript()
        case .custom: nil
        }
    }
}
