import KeelCore

/// Claude Code's print mode with `--output-format stream-json --verbose`: one JSON event per line. The last
/// is `{"type": "result", "result": <final message>, "is_error": …, "total_cost_usd": …, "usage": {…}}`;
/// before it, `assistant` events carry the model's messages, whose last text stands in for a final message
/// when the run was cut short.
struct ClaudeCodeTranscript: AgentTranscriptReader {
    private(set) var report = AgentReport()
    private var sawResult = false

    mutating func read(line: Substring) {
        guard let event = try? JSONValue(parsing: String(line)), let type = event["type"]?.stringValue else {
            return
        }
        switch type {
        case "assistant":
            guard !sawResult, let content = event["message"]?["content"]?.arrayValue else { return }
            let texts = content.compactMap { block in
                block["type"]?.stringValue == "text" ? block["text"]?.stringValue : nil
            }
            if !texts.isEmpty { report.finalMessage = texts.joined(separator: "\n") }
        case "result":
            sawResult = true
            if let result = event["result"]?.stringValue { report.finalMessage = result }
            if event["is_error"]?.boolValue == true {
                report.error = event["result"]?.stringValue ?? event["subtype"]?.stringValue ?? "is_error"
            }
            var usage = AgentUsage()
            let reported = event["usage"]
            for (key, path) in [
                ("input_tokens", \AgentUsage.inputTokens), ("output_tokens", \.outputTokens),
                ("cache_read_input_tokens", \.cacheReadTokens),
                ("cache_creation_input_tokens", \.cacheWriteTokens),
            ] {
                if let amount = reported?[key]?.numberValue?.doubleValue { usage.add(amount, to: path) }
            }
            // Older releases named the total `cost_usd`.
            if let cost = (event["total_cost_usd"] ?? event["cost_usd"])?.numberValue?.doubleValue {
                usage.costUSD = cost
            }
            report.usage = usage
        default:
            break
        }
    }
}
