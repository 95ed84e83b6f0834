import Testing

@testable import KeelCore

@Suite("Flow graph")
struct FlowGraphTests {
    /// A flow of noop steps; `needs[id]` lists what each needs.
    private func yaml(_ steps: [(String, [String])]) -> String {
        var text = "flow: graph\nsteps:\n"
        for (id, needs) in steps {
            text += "  - id: \(id)\n    needs: [\(needs.joined(separator: ", "))]\n    noop: {}\n"
        }
        return text
    }

    @Test("cycles of length 1 to n are named", arguments: 1...6)
    func cycleOfLength(length: Int) throws {
        // s0 needs s(n-1), s1 needs s0, …: the cycle s0 -> s(n-1) -> … -> s1 -> s0.
        var steps: [(String, [String])] = [("start", [])]
        for index in 0..<length {
            steps.append(("s\(index)", ["s\((index + length - 1) % length)"]))
        }
        steps.append(("after", ["s0"]))
        let errors = FlowTest.errors(yaml(steps))
        #expect(errors.count == 1)
        let error = try #require(errors.first)
        #expect(error.code == .cycle)
        #expect(error.path == "steps[1].needs")
        #expect(error.line == 7 && error.column == 13)
        let expected = (["s0"] + (1..<length).reversed().map { "s\($0)" } + ["s0"]).joined(separator: " -> ")
        #expect(error.message == "expected no cycle in needs; steps form the cycle \(expected)")
    }

    @Test func selfNeedIsACycleOfOne() throws {
        let errors = FlowTest.errors(yaml([("a", ["a"])]))
        #expect(errors.map(\.message) == ["expected no cycle in needs; steps form the cycle a -> a"])
    }

    @Test func separateCyclesAreEachReported() {
        let errors = FlowTest.errors(
            yaml([("a", ["b"]), ("b", ["a"]), ("c", ["d"]), ("d", ["c"]), ("e", ["a", "c"])]))
        #expect(
            errors.map(\.message) == [
                "expected no cycle in needs; steps form the cycle a -> b -> a",
                "expected no cycle in needs; steps form the cycle c -> d -> c",
            ])
    }

    @Test func topologicalOrderIsStableByDeclaration() throws {
        let flow = try FlowTest.parse(
            yaml([
                ("deploy", ["test", "lint"]), ("lint", []), ("build", []), ("test", ["build"]), ("docs", []),
            ]))
        #expect(flow.topologicalOrder.map(\.id) == ["lint", "build", "test", "deploy", "docs"])
        let independent = try FlowTest.parse(yaml([("c", []), ("a", []), ("b", [])]))
        #expect(independent.topologicalOrder.map(\.id) == ["c", "a", "b"])
    }

    @Test func ancestorsAreTransitive() throws {
        let flow = try FlowTest.parse(
            yaml([
                ("a", []), ("b", ["a"]), ("c", ["b"]), ("d", []), ("e", ["c", "d"]), ("f", ["a"]),
            ]))
        #expect(flow.ancestors(of: "e") == ["a", "b", "c", "d"])
        #expect(flow.ancestors(of: "a").isEmpty)
        #expect(flow.ancestors(of: "f") == ["a"])
        #expect(flow.ancestors(of: "missing").isEmpty)
    }

    @Test func aLongChainDoesNotExhaustTheStack() throws {
        var steps: [(String, [String])] = [("s0", [])]
        for index in 1..<1_500 { steps.append(("s\(index)", ["s\(index - 1)"])) }
        let flow = try FlowTest.parse(yaml(steps))
        #expect(flow.topologicalOrder.count == 1_500)
        #expect(flow.ancestors(of: "s1499").count == 1_499)
        // Closing the chain makes one cycle through every step.
        steps[0].1 = ["s1499"]
        let errors = FlowTest.errors(yaml(steps))
        #expect(errors.count == 1)
        #expect(errors.first?.message.hasSuffix("s1 -> s0") == true)
    }
}

@Suite("Flow graph with broken steps")
struct FlowBrokenStepGraphTests {
    @Test func stepsThatAreNotMappingsKeepTheOthersChecked() {
        let errors = FlowTest.errors("flow: x\nsteps: [oops, {id: b, needs: [c, b], noop: {}}, 42]\n")
        #expect(errors.map(\.path) == ["steps[0]", "steps[1].needs[0]", "steps[1].needs", "steps[2]"])
        #expect(errors.map(\.code) == [.wrongType, .unknownStep, .cycle, .wrongType])
    }

    @Test func stepsWithoutIDsAreSkippedByTheGraphChecks() {
        let errors = FlowTest.errors(
            "flow: x\nsteps: [{needs: [a], noop: {}}, {id: a, needs: [a], noop: {}}]\n")
        #expect(errors.map(\.code) == [.missingField, .cycle])
    }
}
