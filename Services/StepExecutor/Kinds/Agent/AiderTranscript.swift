import Foundation
import KeelCore

/// aider's message mode (`--message`, `--no-pretty`): plain text. aider reports each exchange as
/// `Tokens: 3.0k sent, 1.1k cache hit, 42 received. Cost: $0.0063 message, $0.0063 session.`; the
/// tokens are summed, the last session figure is the cost. The final message is what aider printed besides
/// its own status lines (version, model, repository, edits, tokens), its last 4 KiB.
struct AiderTranscript: AgentTranscriptReader {
    static let messageCapacity = 4096
    /// Lines aider prints about itself rather than the model's reply.
    static let statusPrefixes = [
        "Aider v", "Model:", "Main model:", "Weak model:", "Editor model:", "Git repo:", "Repo-map:",
        "Tokens:",
        "Cost:", "Applied edit to ", "Commit ", "Added ", "Analytics", "Detected dumb terminal",
        "https://aider.chat", "Warning:", "Creating empty file", "Scanning repo", "Initial repo scan",
        "Did not apply edit", "You can skip this check", "Use /help",
    ]

    private(set) var report = AgentReport()
    private var message: [Substring] = []
    private var messageBytes = 0

    mutating func read(line: Substring) {
        let text = line.hasSuffix("\r") ? line.dropLast() : line
        let trimmed = text.drop { $0 == " " || $0 == ">" }
        if trimmed.hasPrefix("Tokens:") { readTokens(trimmed) }
        if Self.statusPrefixes.contains(where: { trimmed.hasPrefix($0) }) { return }
        if text.isEmpty && message.last?.isEmpty != false { return }
        message.append(text)
        messageBytes += text.utf8.count + 1
        while messageBytes > Self.messageCapacity, message.count > 1 {
            messageBytes -= message.removeFirst().utf8.count + 1
        }
        let joined = message.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        report.finalMessage =
            joined.isEmpty ? nil : String(decoding: joined.utf8.suffix(Self.messageCapacity), as: UTF8.self)
    }

    /// `Tokens: 3.0k sent, 1.1k cache hit, 42 received. Cost: $0.0063 message, $0.0063 session.`
    private mutating func readTokens(_ line: Substring) {
        let cost = line.range(of: "Cost:")
        let counts = line[..<(cost?.lowerBound ?? line.endIndex)].dropFirst("Tokens:".count).split(
            separator: ",")
        for part in counts {
            let words = part.split(separator: " ")
            guard let first = words.first, let amount = Self.amount(first) else { continue }
            var label = words.dropFirst().joined(separator: " ")
            if label.hasSuffix(".") { label.removeLast() }
            switch label {
            case "sent": report.usage.add(amount, to: \.inputTokens)
            case "received": report.usage.add(amount, to: \.outputTokens)
            case "cache hit": report.usage.add(amount, to: \.cacheReadTokens)
            case "cache write": report.usage.add(amount, to: \.cacheWriteTokens)
            default: break
            }
        }
        // "Cost: $0.0063 message, $0.0063 session." — the session's running total.
        guard let cost else { return }
        for part in line[cost.upperBound...].split(separator: ",") {
            let words = part.split(separator: " ")
            if words.count == 2, words[1].hasPrefix("session"), words[0].hasPrefix("$"),
                let amount = Double(words[0].dropFirst())
            {
                report.usage.costUSD = amount
            }
        }
    }

    /// `42`, `3,000`, `3.0k`, `1.2M`.
    static func amount(_ text: Substring) -> Double? {
        var digits = text.replacingOccurrences(of: ",", with: "")
        var scale = 1.0
        if digits.hasSuffix("k") {
            scale = 1e3
            digits.removeLast()
        } else if digits.hasSuffix("M") {
            scale = 1e6
            digits.removeLast()
        }
        return Double(digits).map { ($0 * scale).rounded() }
    }
}
