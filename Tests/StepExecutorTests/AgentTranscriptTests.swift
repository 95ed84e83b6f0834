import Foundation
import KeelCore
import Testing

@testable import step_executor

/// Each adapter's transcript reader on a recorded transcript of its tool's documented output format
/// (`Recorded/`), fed in small uneven chunks as a pipe delivers them: the final message, the usage and the
/// tool's own report of a failure.
@Suite struct AgentTranscriptTests {
    /// A recorded transcript, as bytes.
    static func recorded(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Recorded").appendingPathComponent(name)
        return Array(try Data(contentsOf: url))
    }

    /// What `adapter`'s reader makes of `bytes`, delivered `chunk` bytes at a time.
    static func report(_ adapter: AgentAdapter, _ bytes: [UInt8], chunk: Int = 7) throws -> AgentReport {
        let reader = try #require(adapter.transcriptReader())
        let lines = TranscriptLines(reader: reader)
        var start = 0
        while start < bytes.count {
            lines.append(Array(bytes[start..<min(start + chunk, bytes.count)]))
            start += chunk
        }
        return lines.finish()
    }

    @Test func claudeCodesResultGivesTheFinalMessageTokensAndCost() throws {
        let report = try Self.report(.claudeCode, Self.recorded("claude-code.jsonl"))
        #expect(report.finalMessage == "Fixed `add` in calc.py: it subtracted instead of adding.")
        #expect(report.error == nil)
        #expect(report.usage.inputTokens == 18)
        #expect(report.usage.outputTokens == 254)
        #expect(report.usage.cacheReadTokens == 39377)
        #expect(report.usage.cacheWriteTokens == 1972)
        #expect(report.usage.costUSD == 0.0482115)
        #expect(report.usage.spent == Usage(tokens: 18 + 254 + 39377 + 1972, money: 0.0482115))
        #expect(
            report.usage.jsonValue
                == [
                    "input_tokens": 18, "output_tokens": 254, "cache_read_input_tokens": 39377,
                    "cache_creation_input_tokens": 1972,
                    "cost_usd": .number(try #require(JSONNumber(0.0482115))),
                ])
    }

    @Test func claudeCodesErrorResultIsReportedWithTheLastThingItSaid() throws {
        let report = try Self.report(.claudeCode, Self.recorded("claude-code-error.jsonl"), chunk: 64)
        #expect(report.error == "error_max_turns")
        #expect(report.finalMessage == "Let me read the tests.")
        #expect(report.usage.costUSD == 0.0061)
    }

    @Test func codexsLastAgentMessageAndSummedTurnUsage() throws {
        let report = try Self.report(.codex, Self.recorded("codex.jsonl"))
        #expect(report.finalMessage == "Fixed `add` in calc.py: it subtracted instead of adding.")
        #expect(report.error == nil)
        // Codex counts cached input inside input_tokens: kept apart, nothing counted twice.
        #expect(report.usage.inputTokens == 315)
        #expect(report.usage.cacheReadTokens == 24448)
        #expect(report.usage.outputTokens == 122)
        #expect(report.usage.costUSD == nil)
        #expect(report.usage.spent == Usage(tokens: 24763 + 122))
    }

    @Test func codexsFailedTurnIsReported() throws {
        let report = try Self.report(.codex, Self.recorded("codex-error.jsonl"))
        #expect(report.error == "stream disconnected before completion")
        #expect(report.finalMessage == nil)
    }

    @Test func aidersTokenLineAndReplyWithoutItsStatusLines() throws {
        let report = try Self.report(.aider, Self.recorded("aider.txt"), chunk: 5)
        #expect(report.usage.inputTokens == 2400)
        #expect(report.usage.cacheReadTokens == 1100)
        #expect(report.usage.outputTokens == 87)
        #expect(report.usage.costUSD == 0.0091)
        let message = try #require(report.finalMessage)
        #expect(message.hasPrefix("calc.py\nThe bug is in `add`: it subtracts instead of adding."))
        #expect(message.hasSuffix(">>>>>>> REPLACE"))
        for status in ["Aider v", "Model:", "Git repo:", "Repo-map:", "Tokens:", "Applied edit"] {
            #expect(!message.contains(status), "\(status)")
        }
    }

    @Test func aidersAmountsReadThousandsAndMillions() {
        #expect(AiderTranscript.amount("42") == 42)
        #expect(AiderTranscript.amount("3,000") == 3000)
        #expect(AiderTranscript.amount("3.0k") == 3000)
        #expect(AiderTranscript.amount("1.25M") == 1_250_000)
        #expect(AiderTranscript.amount("many") == nil)
    }

    @Test func junkLinesAndAnOverlongLineDoNotHideTheResult() throws {
        var bytes = Array("not json\n{\"type\":\n".utf8)
        bytes += [UInt8](repeating: UInt8(ascii: "x"), count: TranscriptLines.maximumLineLength + 10) + [0x0A]
        bytes += try Self.recorded("claude-code.jsonl")
        let report = try Self.report(.claudeCode, bytes, chunk: 1 << 16)
        #expect(report.finalMessage == "Fixed `add` in calc.py: it subtracted instead of adding.")
        #expect(report.usage.outputTokens == 254)
    }

    @Test func theLastLineNeedNotEndWithALineBreak() throws {
        var bytes = try Self.recorded("codex.jsonl")
        #expect(bytes.last == 0x0A)
        bytes.removeLast()
        let report = try Self.report(.codex, bytes)
        #expect(report.usage.outputTokens == 122)
    }

    @Test func aCustomAgentsUsageIsReadFromItsOutputsAndRefusedWhenMalformed() throws {
        let usage = try AgentUsage(
            json: ["input_tokens": 100, "output_tokens": 20, "cost_usd": 0.5, "other": "ignored"],
            field: "usage")
        #expect(usage.spent == Usage(tokens: 120, money: 0.5))
        #expect(throws: UsageProblem.self) { try AgentUsage(json: ["input_tokens": "100"], field: "usage") }
        #expect(throws: UsageProblem.self) { try AgentUsage(json: ["cost_usd": -1], field: "usage") }
        #expect(throws: UsageProblem.self) { try AgentUsage(json: [1, 2], field: "usage") }
    }
}
