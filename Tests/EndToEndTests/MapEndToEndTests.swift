import Foundation
import KeelCore
import KeelTestSupport
import Testing

/// A step mapped over a list its planning step computed, run by the real services: each element an
/// attempt of its own on a step-executor, at most `max_concurrency` at once, results gathered in order.
@Suite(.serialized) struct MapEndToEndTests: KeelCLITesting {
    /// `plan` lists fifty shards (`s0` … `s49`); `apply` runs once per shard, five at a time, logging
    /// when each element begins and ends; shard `s2` fails its first attempt (and is retried), the shard
    /// named in `input.broken` fails every attempt.
    static let flow = """
        flow: map-demo
        input:
          type: object
          required: [effects, spans, scratch, broken]
          properties:
            effects: {type: string}
            spans: {type: string}
            scratch: {type: string}
            broken: {type: string}
        steps:
          - id: plan
            run:
              command: [sh, -c, 'printf "{\\"shards\\": [%s]}" "$(seq -s, -f "\\"s%g\\"" 0 49)" > "$KEEL_OUTPUT"']
          - id: apply
            needs: [plan]
            map: {over: "${{ steps.plan.outputs.shards }}", max_concurrency: 5}
            retry: {max_attempts: 2, initial: 200ms, backoff: fixed}
            run:
              command:
                - sh
                - -c
                - |
                  \(RunEngineTests.effect)
                  (umask 0; echo "$KEEL_STEP begin $(date +%s%3N)" >> "$1")
                  sleep 0.3
                  (umask 0; echo "$KEEL_STEP end $(date +%s%3N)" >> "$1")
                  if [ "$2" = "$5" ]; then exit 4; fi
                  if [ "$2" = s2 ] && [ ! -e "$4/s2-failed" ]; then (umask 0; touch "$4/s2-failed"); exit 3; fi
                  echo "{\\"shard\\": \\"$2\\", \\"index\\": $3}" > "$KEEL_OUTPUT"
                - "${{ input.effects }}"
                - "${{ input.spans }}"
                - "${{ map.item }}"
                - "${{ map.index }}"
                - "${{ input.scratch }}"
                - "${{ input.broken }}"
          - id: report
            needs: [apply]
            run:
              command: [sh, -c, 'test "$0" = 50 && echo "{\\"results\\": $1}" > "$KEEL_OUTPUT"', "${{ steps.apply.outputs.count }}", "${{ toJSON(steps.apply.outputs.results) }}"]
        """

    private func input(_ stack: EngineStack, broken: String) -> String {
        let path = { stack.scratch.appendingPathComponent($0).path }
        return
            #"{"effects": "\#(path("effects"))", "spans": "\#(path("spans"))", "scratch": "\#(stack.scratch.path)", "broken": "\#(broken)"}"#
    }

    @Test func fiftyShardsRunAsTheirOwnAttemptsFiveAtATimeAndTheResultsComeInListOrder() async throws {
        let stack = try await EngineStack(flows: [Self.flow])
        try await stack.trigger("map-demo", input: input(stack, broken: "none"))
        let (runID, status) = try #require(try await stack.waitForFinishedRuns("map-demo", count: 1).first)
        let facts = try await stack.history(runID)
        #expect(status == "succeeded", "\(stack.logs)")
        let expanded = facts.compactMap { fact -> [JSONValue]? in
            if case .mapExpanded("apply", 1, let items) = fact.event { return items }
            return nil
        }
        let shards = (0..<50).map { JSONValue.string("s\($0)") }
        #expect(expanded == [shards])
        // Each element ran once with its own key, shard c twice (its retry).
        let ran = Dictionary(grouping: stack.effects().filter { $0.run == runID }, by: \.step).mapValues(
            \.count)
        #expect(ran == Dictionary(uniqueKeysWithValues: (0..<50).map { ("apply[\($0)]", $0 == 2 ? 2 : 1) }))
        #expect(
            facts.contains {
                if case .stepRetryScheduled("apply[2]", 2, _, _) = $0.event { return true }
                return false
            })
        // Never more than two elements between their begin and end lines.
        var running = 0
        var most = 0
        let spans = try String(contentsOf: stack.scratch.appendingPathComponent("spans"), encoding: .utf8)
        for line in spans.split(separator: "\n").map({ $0.split(separator: " ") })
            .sorted(by: { (Int64($0[2]) ?? 0, $0[1]) < (Int64($1[2]) ?? 0, $1[1]) })
        {
            running += line[1] == "begin" ? 1 : -1
            most = max(most, running)
        }
        // The limit holds; how close a loaded machine comes to it is timing, so only overlap is asked.
        #expect(most <= 5, "elements at once: \(most)\n\(spans)")
        #expect(most >= 2, "elements ran one at a time: \(most)")
        // The report read the results in list order, whatever order the elements finished in.
        let report = facts.compactMap { fact -> JSONObject? in
            if case .stepSucceeded("report", _, let outputs) = fact.event { return outputs }
            return nil
        }
        let results = report.first?["results"]?.arrayValue ?? []
        #expect(results.map { $0["shard"] } == shards)
        #expect(results.map { $0["index"] } == (0..<50).map { .number(JSONNumber($0)) })
        try await stack.expectHistoryReplays(runID)
        let show = try await keel(["run", "show", runID, "--json"], database: stack.database)
        #expect(show.status == 0)
        let steps = ((show.json as? [String: Any])?["steps"] as? [[String: Any]])?.compactMap {
            $0["id"] as? String
        }
        #expect(
            steps == ["plan", "apply"] + (0..<50).map { "apply[\($0)]" } + ["report"])
        try await stack.stop()
    }

    @Test func aShardThatKeepsFailingFailsTheMapAndSkipsTheShardsNotStarted() async throws {
        let stack = try await EngineStack(flows: [Self.flow])
        try await stack.trigger("map-demo", input: input(stack, broken: "s1"))
        let (runID, status) = try #require(try await stack.waitForFinishedRuns("map-demo", count: 1).first)
        #expect(status == "failed", "\(stack.logs)")
        let state = RunState.replay(
            try await stack.history(runID), flow: try FlowParser.parse(yaml: Self.flow, file: "map-demo.yaml")
        )
        #expect(state.steps["apply[1]"]?.status == .failed)
        #expect(state.steps["apply"]?.status == .failed)
        #expect(state.steps["apply"]?.message?.hasPrefix("element 1 failed") == true)
        #expect(state.steps["report"]?.status == .skipped)
        // Shards after the failure were skipped unless already started (five at a time).
        let skipped = state.elements(of: "apply").filter { state.steps[$0]?.status == .skipped }
        #expect(!skipped.isEmpty)
        #expect(skipped.allSatisfy { state.steps[$0]?.message == "element 1 failed" })
        try await stack.expectHistoryReplays(runID)
        try await stack.stop()
    }
}
