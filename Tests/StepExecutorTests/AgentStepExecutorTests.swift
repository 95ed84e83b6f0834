import Foundation
import Synchronization
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

@testable import step_executor

/// `agent` steps against real processes, a real git working copy and a real resource store: a stand-in
/// for each tool replays a recorded transcript and edits the working copy, and the step records the
/// transcript, the diff, the changed files, the final message and the usage.
@Suite struct AgentStepExecutorTests {
    /// A git working copy with one commit (`calc.py` with a bug) in a fresh directory, and a directory
    /// beside it for what the stand-in agent records about how it was started.
    struct WorkingCopy {
        let path: String
        let notes: String

        static func make() async throws -> WorkingCopy {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("keel-agent-\(UUID())")
                .path
            let copy = WorkingCopy(path: root + "/repo", notes: root + "/notes")
            try FileManager.default.createDirectory(atPath: copy.path, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: copy.notes, withIntermediateDirectories: true)
            try await copy.shell(
                """
                git init -q -b main . && printf 'def add(a, b):\\n    return a - b\\n' > calc.py
                git add calc.py && git -c user.name=t -c user.email=t@example.com commit -q -m init
                """)
            return copy
        }

        /// Runs `script` with `sh -c` in the working copy; throws with its error output when it fails.
        @discardableResult
        func shell(_ script: String) async throws -> String {
            let output = LockedBytes()
            let result = try await LocalProcess.run(
                LocalProcessSpec(
                    arguments: ["sh", "-c", script],
                    environment: ["PATH": RunDefaults.standardPath, "HOME": path],
                    workingDirectory: path)
            ) { chunk in
                switch chunk {
                case .standardOutput(let bytes), .standardError(let bytes): output.append(bytes)
                }
            }
            let text = output.text
            guard result.exitCode == 0 else { throw ShellFailed(script: script, output: text) }
            return text
        }

        func remove() {
            try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
        }
    }

    struct ShellFailed: Error, CustomStringConvertible {
        let script: String
        let output: String
        var description: String { "\(script) failed: \(output)" }
    }

    /// A stand-in for a tool: records its argv and stdin in `notes`, prints a recorded transcript, fixes
    /// `calc.py` and adds `NOTES.md`, as the real tool would.
    static func standIn(transcript: String, in copy: WorkingCopy) throws -> String {
        let recorded = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Recorded").appendingPathComponent(transcript).path
        let script = copy.notes + "/agent.sh"
        try """
        #!/bin/sh
        for argument in "$@"; do printf '%s\\n' "$argument"; done > '\(copy.notes)/argv'
        cat > '\(copy.notes)/stdin'
        cat '\(recorded)'
        sed -i 's/a - b/a + b/' calc.py
        printf 'added by the agent\\n' > NOTES.md
        """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        return script
    }

    /// A fresh working copy, a stand-in replaying `transcript` there, a resource store and the kinds on it,
    /// for `body`; the copy is removed afterwards.
    static func withStandIn(
        replaying transcript: String,
        _ body: (WorkingCopy, String, ResourceStore, StepKinds) async throws -> Void
    ) async throws {
        let copy = try await WorkingCopy.make()
        defer { copy.remove() }
        let program = try standIn(transcript: transcript, in: copy)
        try await withResourceStore { resources in
            try await body(copy, program, resources, StepKinds.testing(resources))
        }
    }

    static func agentStep(_ action: AgentAction) -> StepDefinition {
        StepDefinition(id: "fix", kind: .agent(action))
    }

    @Test func claudeCodesRunIsRecordedWithTranscriptDiffFilesMessageAndUsage() async throws {
        let copy = try await WorkingCopy.make()
        defer { copy.remove() }
        let program = try Self.standIn(transcript: "claude-code.jsonl", in: copy)
        try await withResourceStore { resources in
            let kinds = StepKinds.testing(resources, secrets: ["ANTHROPIC_API_KEY": "sk-ant-secret-1"])
            let step = Self.agentStep(
                AgentAction(
                    adapter: .claudeCode, prompt: "Fix: ${{ input.task }}", workingDirectory: copy.path,
                    command: [program], env: ["ANTHROPIC_API_KEY": "${{ secrets.ANTHROPIC_API_KEY }}"]))
            let outcome = try await kinds.execute(work(step, input: ["task": "the failing test"]))
            let outputs = try #require(outcome.outputs, "\(outcome)")

            let transcript = try await resources.text(of: outputs["transcript"])
            #expect(
                transcript
                    == String(decoding: try AgentTranscriptTests.recorded("claude-code.jsonl"), as: UTF8.self)
            )
            #expect(outputs["transcript"]?["type"] == "application/x-ndjson")
            #expect(outputs["diff"]?["type"] == "text/x-diff")
            let diff = try await resources.text(of: outputs["diff"])
            #expect(diff.contains("diff --git a/calc.py b/calc.py"))
            #expect(diff.contains("-    return a - b\n+    return a + b"))
            #expect(diff.contains("diff --git a/NOTES.md b/NOTES.md"))
            #expect(diff.contains("+added by the agent"))
            #expect(outputs["files_changed"] == ["NOTES.md", "calc.py"])
            #expect(outputs["final_message"] == "Fixed `add` in calc.py: it subtracted instead of adding.")
            #expect(outputs["usage"]?["output_tokens"] == 254)
            #expect(outputs["usage"]?["cost_usd"] == .number(try #require(JSONNumber(0.0482115))))
            #expect(outputs["exit_code"] == 0)
            #expect(outputs["stdout"] == nil)

            let argv = try String(contentsOfFile: copy.notes + "/argv", encoding: .utf8)
            #expect(argv == "-p\n--output-format\nstream-json\n--verbose\n--\nFix: the failing test\n")
            // The diff the step stored is the working copy's canonical diff, byte for byte.
            let again = try await copy.shell(
                "GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git "
                    + WorkingCopyDiff.gitOptions.joined(separator: " ") + " "
                    + WorkingCopyDiff.diffArguments.joined(separator: " "))
            #expect(again == diff)
        }
    }

    @Test func aChangeRequestReachesTheAgentInItsPrompt() async throws {
        try await Self.withStandIn(replaying: "codex.jsonl") { copy, program, resources, kinds in
            var attempt = work(
                Self.agentStep(
                    AgentAction(
                        adapter: .codex, prompt: "Fix the test", workingDirectory: copy.path,
                        command: [program])),
                attempt: 2)
            attempt.changeRequest = ChangeRequest(
                note: "Handle negative numbers too.", actor: "rita", round: 1)
            let outcome = try await kinds.execute(attempt)
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(outputs["final_message"] == "Fixed `add` in calc.py: it subtracted instead of adding.")
            #expect(
                outputs["usage"] == [
                    "input_tokens": 315, "cache_read_input_tokens": 24448, "output_tokens": 122,
                ])
            let argv = try String(contentsOfFile: copy.notes + "/argv", encoding: .utf8)
            #expect(
                argv.hasSuffix(
                    "--\nFix the test\n\n---\nA reviewer asked for changes (round 1, from rita):\n"
                        + "Handle negative numbers too.\n"))
        }
    }

    @Test func aCustomAgentGetsThePromptOnStdinAndReportsInKeelOutputWithSecretsMasked() async throws {
        let copy = try await WorkingCopy.make()
        defer { copy.remove() }
        let secret = "sk-custom-secret-42"
        let script = copy.notes + "/custom.sh"
        try """
        #!/bin/sh
        prompt="$(cat)"
        echo "working on: $prompt"
        env | sort
        echo "key=$AGENT_KEY" > leaked.txt
        printf '{"final_message": "done: %s", "usage": {"input_tokens": 100, "output_tokens": 20, "cost_usd": 0.25}}' "$prompt" > "$KEEL_OUTPUT"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        try await withResourceStore { resources in
            let kinds = StepKinds.testing(resources, secrets: ["KEY": secret])
            let outcome = try await kinds.execute(
                work(
                    Self.agentStep(
                        AgentAction(
                            adapter: .custom, prompt: "add leaked.txt", workingDirectory: copy.path,
                            command: [script],
                            model: "demo-1", env: ["AGENT_KEY": "${{ secrets.KEY }}"]))))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(outputs["final_message"] == "done: add leaked.txt")
            #expect(outputs["usage"] == ["input_tokens": 100, "output_tokens": 20, "cost_usd": 0.25])
            #expect(outputs["files_changed"] == ["leaked.txt"])
            #expect(outputs["transcript"]?["type"] == "text/plain")
            let transcript = try await resources.text(of: outputs["transcript"])
            #expect(transcript.hasPrefix("working on: add leaked.txt\n"))
            #expect(transcript.contains("AGENT_KEY=***"))
            #expect(transcript.contains("KEEL_AGENT_MODEL=demo-1"))
            #expect(!transcript.contains(secret))
            // Nothing of the executor's own environment (its database URL) reaches the agent.
            #expect(!transcript.contains("KEEL_DATABASE_URL"))
            let diff = try await resources.text(of: outputs["diff"])
            #expect(diff.contains("+key=***"))
            #expect(!diff.contains(secret))
        }
    }

    @Test func aSecretTheToolWritesIntoItsJSONTranscriptIsMaskedThereAndInTheFinalMessage() async throws {
        let copy = try await WorkingCopy.make()
        defer { copy.remove() }
        let secret = #"sk-"quoted"-42"#
        let script = copy.notes + "/claude.sh"
        // A tool that quotes its key back in its result event, JSON-escaped as any JSON writer would.
        try #"""
        #!/bin/sh
        key="$(printf '%s' "$AGENT_KEY" | sed 's/"/\\"/g')"
        printf '{"type":"result","subtype":"success","is_error":false,"result":"the key is %s"}\n' "$key"
        """#.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        try await withResourceStore { resources in
            let kinds = StepKinds.testing(resources, secrets: ["KEY": secret])
            let outcome = try await kinds.execute(
                work(
                    Self.agentStep(
                        AgentAction(
                            adapter: .claudeCode, prompt: "p", workingDirectory: copy.path, command: [script],
                            env: ["AGENT_KEY": "${{ secrets.KEY }}"]))))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(outputs["final_message"] == "the key is ***")
            let transcript = try await resources.text(of: outputs["transcript"])
            #expect(transcript.contains(#""result":"the key is ***""#), "\(transcript)")
            #expect(!transcript.contains("quoted"))
        }
    }

    @Test func theAgentsRepositoryCannotMakeTheDiffRunAProgram() async throws {
        try await Self.withStandIn(replaying: "codex.jsonl") { copy, program, resources, kinds in
            let marker = copy.notes + "/pwned"
            // What a hostile agent could leave behind for whoever runs git here next.
            try await copy.shell(
                """
                git config core.fsmonitor 'touch \(marker)'
                git config diff.external '\(copy.notes)/external.sh'
                printf '#!/bin/sh\\ntouch \(marker)\\n' > '\(copy.notes)/external.sh' && chmod +x '\(copy.notes)/external.sh'
                mkdir -p .git/hooks && printf '#!/bin/sh\\ntouch \(marker)\\n' > .git/hooks/post-index-change
                chmod +x .git/hooks/post-index-change
                git config color.ui always
                git config diff.noprefix true
                """)
            let outcome = try await kinds.execute(
                work(
                    Self.agentStep(
                        AgentAction(
                            adapter: .codex, prompt: "p", workingDirectory: copy.path, command: [program]))))
            let outputs = try #require(outcome.outputs, "\(outcome)")
            #expect(!FileManager.default.fileExists(atPath: marker))
            let diff = try await resources.text(of: outputs["diff"])
            #expect(diff.contains("diff --git a/calc.py b/calc.py"))
            #expect(!diff.contains("\u{1B}["))
        }
    }

    @Test func aWorkingDirectoryThatIsNotAGitWorkingCopyFailsPermanently() async throws {
        try await Self.withStandIn(replaying: "codex.jsonl") { copy, program, resources, kinds in
            let outcome = try await kinds.execute(
                work(
                    Self.agentStep(
                        AgentAction(
                            adapter: .codex, prompt: "p", workingDirectory: copy.notes, command: [program]))))
            #expect(outcome.errorClass == .permanent)
            #expect(
                outcome.message.hasPrefix(
                    "working_dir \(copy.notes): cannot read the agent's changes with git"))
        }
    }

    @Test func aToolThatReportsAnErrorFailsTheAttemptAsTransient() async throws {
        try await Self.withStandIn(replaying: "claude-code-error.jsonl") { copy, program, resources, kinds in
            let outcome = try await kinds.execute(
                work(
                    Self.agentStep(
                        AgentAction(
                            adapter: .claudeCode, prompt: "p", workingDirectory: copy.path, command: [program]
                        ))))
            #expect(outcome.errorClass == .transient)
            #expect(outcome.message == "the agent reported an error: error_max_turns")
        }
    }

    @Test func aToolThatIsNotInstalledFailsPermanently() async throws {
        let copy = try await WorkingCopy.make()
        defer { copy.remove() }
        try await withResourceStore { resources in
            let kinds = StepKinds.testing(resources)
            let outcome = try await kinds.execute(
                work(Self.agentStep(AgentAction(adapter: .aider, prompt: "p", workingDirectory: copy.path))))
            #expect(outcome.errorClass == .permanent)
            #expect(outcome.message == "cannot start aider: no such executable program")
        }
    }
}

/// Bytes collected from a process's output, from its reading thread.
final class LockedBytes: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    func append(_ chunk: [UInt8]) { bytes.withLock { $0 += chunk } }
    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
}
