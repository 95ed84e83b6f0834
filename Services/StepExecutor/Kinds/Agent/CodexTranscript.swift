import KeelCore

/// OpenAI Codex CLI's `codex exec --json`: one JSON event per line (`thread.started`, `turn.started`,
/// `item.started`/`item.updated`/`item.completed`, `turn.completed`, `turn.failed`, `error`). The final
/// message is the last completed `agent_message` item; usage is summed over `turn.completed` events.
/// Codex reports no cost.
struct CodexTranscript: AgentTranscriptReader {
    private(set) var report = AgentReport()

    mutating func read(line: Substring) {
        guard let event = try? JSONValue(parsing: String(line)), let type = event["type"]?.stringValue else {
            return
        }
        switch type {
        case "item.completed":
            if event["item"]?["type"]?.stringValue == "agent_message",
                let text = event["item"]?["text"]?.stringValue
            {
                report.finalMessage = text
            }
        case "turn.completed":
            let usage = event["usage"]
            // Codex counts cached input inside input_tokens; kept apart here so nothing is counted twice.
            let input = usage?["input_tokens"]?.numberValue?.doubleValue
            let cached = usage?["cached_input_tokens"]?.numberValue?.doubleValue
            if let input { report.usage.add(max(0, input - (cached ?? 0)), to: \.inputTokens) }
            if let cached { report.usage.add(cached, to: \.cacheReadTokens) }
            if let output = usage?["output_tokens"]?.numberValue?.doubleValue {
                report.usage.add(output, to: \.outputTokens)
            }
        case "turn.failed":
            report.error = event["error"]?["message"]?.stringValue ?? "turn.failed"
        case "error":
            report.error = event["message"]?.stringValue ?? "error"
        default:
            break
        }
    }
}
