import Testing

@testable import KeelCore

/// Hostile or huge YAML must end in errors, never in a crash, a hang or exhausted memory.
@Suite("Flow hostile input")
struct FlowHostileInputTests {
    private func limitError(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> FlowError? {
        let errors = FlowTest.errors(yaml, sourceLocation: sourceLocation)
        #expect(errors.count == 1, "\(errors)", sourceLocation: sourceLocation)
        #expect(errors.first?.code == .limitExceeded, sourceLocation: sourceLocation)
        return errors.first
    }

    @Test func deeplyNestedFlowCollections() {
        let depth = 100_000
        let yaml =
            "flow: x\ninput: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            + "\n"
        let error = limitError(yaml)
        #expect(error?.line == 2)
        #expect(error?.message == "expected at most 64 levels of nesting")
    }

    @Test func deeplyNestedFlowMappings() {
        let depth = 50_000
        let yaml =
            "flow: x\ninput: " + String(repeating: "{a: ", count: depth) + "1"
            + String(repeating: "}", count: depth)
        #expect(limitError(yaml)?.line == 2)
    }

    @Test func deeplyIndentedBlockMappings() {
        var yaml = "flow: x\ninput:\n"
        for level in 1...1_000 { yaml += String(repeating: " ", count: level) + "k:\n" }
        let error = limitError(yaml)
        #expect(error?.message == "expected at most 64 levels of nesting")
        #expect(error?.line == 65)
    }

    @Test func compactSequencesOnOneLine() {
        let yaml = "flow: x\ninput: \n  " + String(repeating: "- ", count: 20_000) + "x\n"
        #expect(limitError(yaml)?.line == 3)
    }

    @Test func nestingWithinTheLimitIsAccepted() throws {
        var schema = "{type: string}"
        for _ in 0..<20 { schema = "{type: object, properties: {a: \(schema)}}" }
        let flow = try FlowTest.parse("flow: x\ninput: \(schema)\nsteps: [{id: a, noop: {}}]\n")
        #expect(flow.input?["properties"]?["a"]?["type"] == "object")
    }

    @Test func bracketsInsideStringsAndBlockScalarsDoNotCount() throws {
        let deep = String(repeating: "[", count: 500)
        let yaml = """
            flow: x
            description: |
              \(deep)
                \(deep)
            steps:
              - id: a
                run: {command: [echo, "\(deep)", '\(deep)']}
            """
        let flow = try FlowTest.parse(yaml)
        #expect(flow.description?.hasPrefix(deep) == true)
    }

    @Test func billionLaughsStopsAtTheNodeBudget() {
        var yaml = "flow: x\nx-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "x-a\(level): &a\(level) [\(refs)]\n"
        }
        yaml += "input: *a9\nsteps: [{id: a, noop: {}}]\n"
        let start = ContinuousClock.now
        let error = limitError(yaml)
        #expect(error?.message == "expected at most 250000 values after expanding aliases")
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func aliasesWithinTheBudgetAreExpanded() throws {
        let yaml = """
            flow: x
            x-cmd: &cmd [make, test]
            steps:
              - {id: a, run: {command: *cmd}}
              - {id: b, run: {command: *cmd}}
            """
        let flow = try FlowTest.parse(yaml)
        #expect(
            flow.steps.map(\.kind) == Array(repeating: .run(RunAction(command: ["make", "test"])), count: 2))
    }

    @Test func oversizedDocument() {
        let yaml = "flow: x\ndescription: \"" + String(repeating: "a", count: 5 << 20) + "\"\n"
        #expect(limitError(yaml)?.message == "expected at most 4194304 bytes of YAML; got \(yaml.utf8.count)")
    }

    @Test func tooManySteps() {
        var yaml = "flow: x\nsteps:\n"
        for index in 0..<2_001 { yaml += "  - {id: s\(index), noop: {}}\n" }
        #expect(limitError(yaml)?.path == "steps")
    }

    @Test(
        "non-flow documents fail cleanly",
        arguments: [
            "", "   \n", "# only a comment\n", "[1, 2]", "just text", "flow: x\nsteps: ~\n",
            "---\nflow: a\n---\nflow: b\n",
            "flow: x\nsteps:\n\t- id: a\n", "flow: x\u{0}\n", "flow: 'unterminated\n",
            "{flow: x, steps: [}\n",
            "flow: *undefined\n", "? [a, b]\n: c\n", "flow: .nan\nsteps: [{id: a, noop: .inf}]\n",
        ])
    func malformed(yaml: String) {
        let errors = FlowTest.errors(yaml)
        #expect(!errors.isEmpty)
        #expect(errors.allSatisfy { $0.line >= 1 && $0.column >= 1 })
    }

    @Test(
        "random mutations of the examples end in a flow or in errors, never a crash",
        arguments: [
            "safe-code-change.yaml", "bulk-data-fix.yaml", "gpu-benchmark.yaml", "schema-change.yaml",
        ])
    func mutations(example: String) throws {
        let original = Array(try FlowTest.example(example).unicodeScalars)
        let alphabet = Array("[]{}:-,'\"#&*!|>?<@`% \n\tab0${}".unicodeScalars)
        var generator = SplitMix64(seed: UInt64(example.utf8.count))
        var failures = 0
        for _ in 0..<250 {
            var scalars = original
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = Int(generator.next() % UInt64(scalars.count))
                switch generator.next() % 4 {
                case 0: scalars.remove(at: position)
                case 1: scalars.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                case 2: scalars[position] = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                default:
                    // Duplicate a slice: repeated keys, steps and brackets.
                    let end = min(scalars.count, position + Int(generator.next() % 80))
                    scalars.insert(contentsOf: scalars[position..<end], at: position)
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            if case .failure(let errors) = FlowParser.result(yaml: text, file: "fuzz.yaml") {
                failures += 1
                #expect(!errors.isEmpty)
                #expect(errors.allSatisfy { $0.line >= 1 && $0.column >= 1 && !$0.message.isEmpty })
            }
        }
        #expect(failures > 0)
    }

    @Test func fiveHundredStepsParseFast() throws {
        var yaml = "flow: big\ninput: {type: object}\nsteps:\n"
        for index in 0..<500 {
            let needs = index == 0 ? "" : "\n    needs: [s\(index - 1)\(index >= 4 ? ", s\(index / 2)" : "")]"
            yaml += """
                  - id: s\(index)\(needs)
                    run:
                      command: [./step.sh, "${{ input.x }}", "\(index)"]
                      env: {N: "\(index)"}
                      timeout: 5m
                    retry: {max_attempts: 3, backoff: exponential, initial: 2s}
                    outputs: {out: inline}

                """
        }
        let clock = ContinuousClock()
        var flow: FlowDefinition?
        let elapsed = try clock.measure { flow = try FlowTest.parse(yaml) }
        #expect(flow?.steps.count == 500)
        #expect(flow?.topologicalOrder.count == 500)
        // Typically well under a second in a debug build; generous for a loaded CI machine.
        #expect(elapsed < .seconds(10), "parsing 500 steps took \(elapsed)")
    }
}
