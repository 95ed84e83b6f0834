import Testing

@testable import KeelCore

/// The `agent` step kind: its fields and checks, its canonical form, and the argv each adapter builds.
@Suite("Agent steps")
struct AgentActionTests {
    private func step(_ body: String, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> StepDefinition
    {
        let flow = try FlowTest.parse(
            "flow: agents\nsteps:\n  - id: fix\n" + body, sourceLocation: sourceLocation)
        return try #require(flow.steps.first, sourceLocation: sourceLocation)
    }

    private func errors(_ body: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        FlowTest.errors("flow: agents\nsteps:\n  - id: fix\n" + body, sourceLocation: sourceLocation).map {
            "\($0.path): \($0.message)"
        }
    }

    private static let context = ExpressionContext(
        input: ["task": "make the test pass", "repo": "/srv/repo", "empty": ""],
        run: RunContext(id: "r", flow: "agents", version: 1, correlationID: "c", attempt: 1))

    private func rendered(_ action: AgentAction) throws -> RenderedAgentAction {
        var renderer = StepActionRenderer(context: Self.context, secrets: { $0 == "KEY" ? "sk-1" : nil })
        return try RenderedAgentAction(action, renderer: &renderer)
    }

    @Test func anAgentStepReadsEveryField() throws {
        let step = try step(
            """
                agent:
                  adapter: claude-code
                  prompt: "Fix: ${{ input.task }}"
                  working_dir: "${{ input.repo }}"
                  command: [/opt/claude/bin/claude]
                  model: claude-sonnet-4-5
                  args: [--max-turns, 30]
                  env: {ANTHROPIC_API_KEY: "${{ secrets.KEY }}"}
                  timeout: 20m
            """)
        #expect(
            step.kind
                == .agent(
                    AgentAction(
                        adapter: .claudeCode, prompt: "Fix: ${{ input.task }}",
                        workingDirectory: "${{ input.repo }}",
                        command: ["/opt/claude/bin/claude"], model: "claude-sonnet-4-5",
                        arguments: ["--max-turns", "30"], env: ["ANTHROPIC_API_KEY": "${{ secrets.KEY }}"],
                        timeout: FlowDuration(milliseconds: 1_200_000))))
    }

    @Test func aCustomAgentMustNameItsProgramAndAnUnknownAdapterIsRefused() {
        #expect(
            errors("    agent: {adapter: custom, prompt: p, working_dir: /w}\n")
                == [
                    "steps[0].agent.command: expected a command for the custom adapter: the program that follows "
                        + "the agent contract"
                ])
        let unknown = errors("    agent: {adapter: cursor, prompt: p, working_dir: /w}\n")
        #expect(unknown.count == 1)
        #expect(
            unknown.first?.hasPrefix(
                "steps[0].agent.adapter: expected one of claude-code, codex, aider, custom") == true)
        #expect(
            errors("    agent: {adapter: codex, prompt: p}\n")
                == ["steps[0].agent: missing required field 'working_dir'"])
        #expect(
            errors("    agent: {adapter: codex, prompt: p, working_dir: /w, sandbox: none}\n").first?
                .hasPrefix(
                    "steps[0].agent.sandbox:") == true)
    }

    @Test func anAgentStepCannotAlsoWaitOrRun() {
        let found = errors(
            "    agent: {adapter: codex, prompt: p, working_dir: /w}\n    run: {command: [x]}\n")
        #expect(found.first?.contains("expected exactly one of run, http, ssh, agent,") == true)
        #expect(found.first?.hasSuffix("got run, agent") == true)
    }

    @Test func theCanonicalFormChangesWithTheAgentsFieldsAndNotWithTheirOrder() throws {
        let one = try FlowTest.parse(
            "flow: a\nsteps:\n  - id: fix\n    agent: {adapter: aider, prompt: p, working_dir: /w, model: m}\n"
        )
        let same = try FlowTest.parse(
            "flow: a\nsteps:\n  - id: fix\n    agent: {model: m, working_dir: /w, prompt: p, adapter: aider}\n"
        )
        let other = try FlowTest.parse(
            "flow: a\nsteps:\n  - id: fix\n    agent: {adapter: codex, prompt: p, working_dir: /w, model: m}\n"
        )
        #expect(one.contentHash == same.contentHash)
        #expect(one.contentHash != other.contentHash)
        #expect(
            one.canonicalJSON.contains(
                #""agent":{"adapter":"aider","model":"m","prompt":"p","working_dir":"/w"}"#))
    }

    @Test func eachAdapterBuildsItsToolsArgvWithThePromptWhereTheToolReadsIt() throws {
        let prompt = "-starts with a dash"
        func argv(_ adapter: AgentAdapter, command: [String]? = nil) throws -> RenderedRunAction {
            try rendered(
                AgentAction(
                    adapter: adapter, prompt: "${{ input.task }}", workingDirectory: "${{ input.repo }}",
                    command: command, model: "m1", arguments: ["--extra"], env: ["K": "${{ secrets.KEY }}"])
            ).process(prompt: prompt)
        }
        #expect(
            try argv(.claudeCode).arguments
                == [
                    "claude", "-p", "--output-format", "stream-json", "--verbose", "--model", "m1", "--extra",
                    "--", prompt,
                ])
        #expect(
            try argv(.codex).arguments
                == ["codex", "exec", "--json", "--full-auto", "--model", "m1", "--extra", "--", prompt])
        let aider = try argv(.aider)
        #expect(aider.arguments.first == "aider")
        #expect(aider.arguments[1] == "--message=\(prompt)")
        #expect(aider.arguments.contains("--no-auto-commits"))
        #expect(aider.arguments.suffix(3) == ["--model", "m1", "--extra"])

        let custom = try argv(.custom, command: ["./agent.sh", "--fast"])
        #expect(custom.arguments == ["./agent.sh", "--fast", "--extra"])
        #expect(custom.standardInput == Array(prompt.utf8))
        #expect(custom.environment == ["K": "sk-1", "KEEL_AGENT_MODEL": "m1"])
        #expect(custom.workingDirectory == "/srv/repo")
        #expect(try argv(.codex).standardInput.isEmpty)
    }

    @Test func aChangeRequestIsAppendedToThePrompt() throws {
        let action = try rendered(AgentAction(adapter: .codex, prompt: "Fix it", workingDirectory: "/w"))
        #expect(action.prompt(answering: nil) == "Fix it")
        #expect(
            action.prompt(answering: ChangeRequest(note: "Also handle negatives.", actor: "rita", round: 2))
                == "Fix it\n\n---\nA reviewer asked for changes (round 2, from rita):\nAlso handle negatives."
        )
    }

    @Test func anEmptyWorkingDirectoryIsRefusedWhenRendered() {
        #expect(throws: StepRenderError.self) {
            try rendered(AgentAction(adapter: .codex, prompt: "p", workingDirectory: "${{ input.empty }}"))
        }
    }
}
