import Foundation
import KeelTestSupport
import Testing

/// What Keel promises about order (docs/flows.md#ordering): runs of one key with a concurrency limit of
/// 1 run one at a time, in the order they reached the limit, which for a publisher that waits for each
/// trigger's confirm is trigger order. Read from the steps' own log, with two executors taking work.
@Suite(.serialized) struct OrderingTests {
    static let ordered = """
        flow: ordered
        concurrency: {key: "${{ input.repo }}", limit: 1}
        shard_key: "${{ input.repo }}"
        input:
          type: object
          required: [repo, index, log]
          properties:
            repo: {type: string}
            index: {type: integer}
            log: {type: string}
        steps:
          - id: change
            run:
              command: [sh, -c, 'umask 0; echo "$1 start $(date +%s%3N)" >> "$0"; sleep 0.3; echo "$1 end $(date +%s%3N)" >> "$0"', "${{ input.log }}", "${{ input.index }}"]
        """

    @Test func runsOfOneKeyWithALimitOfOneRunOneAtATimeInTriggerOrder() async throws {
        let stack = try await EngineStack(flows: [Self.ordered])
        do {
            try await stack.startExecutor()
            let log = stack.scratch.appendingPathComponent("order").path
            let count = 20
            for index in 0..<count {
                // The publisher's side of the promise: the next trigger of the key once the last one's run
                // exists (its run.accepted reply; here, the run's row).
                try await stack.trigger(
                    "ordered", input: #"{"repo": "keel", "index": \#(index), "log": "\#(log)"}"#,
                    key: "ordered-\(index)")
                _ = try await stack.runID(key: "ordered-\(index)", flow: "ordered")
            }
            let runs = try await stack.waitForFinishedRuns("ordered", count: count, timeout: .seconds(180))
            #expect(runs.values.allSatisfy { $0 == "succeeded" }, "\(runs)")
            let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
                $0.split(separator: " ")
            }
            let events = lines.compactMap { parts -> (index: Int, start: Bool, at: Int64)? in
                guard parts.count == 3, let index = Int(parts[0]), let at = Int64(parts[2]) else {
                    return nil
                }
                return (index, parts[1] == "start", at)
            }
            // One at a time: every start follows the previous run's end.
            var open = 0
            var peak = 0
            for event in events {
                open += event.start ? 1 : -1
                peak = max(peak, open)
            }
            #expect(peak == 1, "\(peak) runs of one key ran at once")
            let starts = events.filter(\.start).map(\.index)
            #expect(starts == Array(0..<count), "runs started out of trigger order: \(starts)")
        } catch {
            try? await stack.stop()
            throw error
        }
        try await stack.stop()
    }
}
