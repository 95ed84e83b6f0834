import Foundation
import KeelTestSupport
import PGClient
import Testing

/// `keel flow shadow` and `keel flow release --require-shadow` against runs that really ran: the real
/// CLI over the real trigger-intake and step-executor, PostgreSQL and RabbitMQ.
@Suite(.serialized) struct ShadowCLITests: KeelCLITesting {
    static let released = """
        flow: shadow-demo
        input:
          type: object
          properties:
            notify: {type: boolean}
        steps:
          - id: prepare
            run: {command: [sh, -c, 'echo prepared']}
          - id: build
            needs: [prepare]
            run: {command: [sh, -c, 'echo built']}
          - id: publish
            needs: [build]
            run: {command: [sh, -c, 'echo published']}
          - id: notify
            needs: [prepare]
            if: "${{ input.notify == true }}"
            run: {command: [sh, -c, 'echo notified']}
          - id: fallback
            needs: [notify]
            if: "${{ steps.notify.status == 'skipped' }}"
            run: {command: [sh, -c, 'echo fell back']}
        """

    /// Rows that any run, attempt or message would add.
    static func counts(_ stack: EngineStack) async throws -> [String: Int] {
        try await stack.pool.withConnection { connection in
            var counts: [String: Int] = [:]
            for table in ["runs", "run_history", "step_attempts", "outbox"] {
                let rows = try await connection.query("SELECT count(*)::int FROM \(unescaped: table)")
                counts[table] = try rows.first?.decode((Int).self) ?? -1
            }
            return counts
        }
    }

    @Test func aShadowReportsTheChangedStepAndDoesNothing() async throws {
        let stack = try await EngineStack(flows: [Self.released])
        do {
            for index in 0..<3 {
                try await stack.trigger("shadow-demo", input: #"{"notify": true}"#, key: "run-\(index)")
            }
            let finished = try await stack.waitForFinishedRuns("shadow-demo", count: 3)
            #expect(finished.values.allSatisfy { $0 == "succeeded" }, "\(finished)")

            // v2 changes one step's command into one that would leave a file behind.
            let proof = stack.scratch.appendingPathComponent("shadow-proof").path
            let changed = Self.released.replacingOccurrences(
                of: "command: [sh, -c, 'echo built']", with: "command: [touch, \(proof)]")
            // v3 changes notify's condition, which turns fallback (unchanged) around: unexplained.
            let flipped = Self.released.replacingOccurrences(
                of: "input.notify == true", with: "input.notify == false")
            for flow in [changed, flipped] {
                let file = try temporaryFile(flow)
                defer { try? FileManager.default.removeItem(atPath: file) }
                #expect(try await keel(["flow", "push", file], database: stack.database).status == 0)
            }
            let before = try await Self.counts(stack)

            let text = try await ServiceProcess.run(
                "keel", arguments: ["flow", "shadow", "shadow-demo", "--version", "2"],
                environment: ["KEEL_DATABASE_URL": stack.database.url])
            #expect(text.status == 0, "\(text.output)")
            #expect(
                text.output.contains(
                    "shadow-demo v2 shadowed over 3 recorded runs: 3 with differences, none unexplained"),
                "\(text.output)")
            #expect(text.output.contains("changed: build"), "\(text.output)")
            #expect(text.output.contains("touch"), "\(text.output)")
            #expect(text.output.contains("outputs_unknown (waiting on build)"), "\(text.output)")

            let shadow = try await keel(
                ["flow", "shadow", "shadow-demo", "--version", "2", "--json"], database: stack.database)
            #expect(shadow.status == 0)
            let report = try #require(shadow.json as? [String: Any])
            #expect(report["version"] as? Int == 2)
            let totals = try #require(report["totals"] as? [String: Any])
            #expect(totals["runs"] as? Int == 3)
            #expect(totals["runs_with_unexplained_differences"] as? Int == 0)
            let runs = try #require(report["runs"] as? [[String: Any]])
            #expect(Set(runs.compactMap { $0["run_id"] as? String }) == Set(finished.keys))
            for run in runs {
                #expect(run["live_outcome"] as? String == "succeeded")
                #expect(run["shadow_outcome"] as? String == "incomplete")
                let steps = try #require(run["steps"] as? [[String: Any]])
                let differences = Dictionary(
                    uniqueKeysWithValues: steps.map {
                        ($0["step"] as? String ?? "", $0["difference"] as? String ?? "")
                    })
                #expect(
                    differences == [
                        "prepare": "none", "build": "action_changed", "publish": "outputs_unknown",
                        "notify": "none", "fallback": "none",
                    ])
                let build = try #require(steps.first { $0["step"] as? String == "build" })
                #expect(
                    (build["live_action"] as? [String: Any])?["command"] as? [String] == [
                        "sh", "-c", "echo built",
                    ])
                #expect(
                    (build["shadow_action"] as? [String: Any])?["command"] as? [String] == ["touch", proof])
                #expect((build["shadow"] as? [String: Any])?["status"] as? String == "not_executed")
            }

            // Nothing ran, was recorded or was sent.
            #expect(!FileManager.default.fileExists(atPath: proof))
            #expect(try await Self.counts(stack) == before)

            // A difference in an unchanged step is unexplained: the release is refused and v1 stays live.
            let refused = try await ServiceProcess.run(
                "keel", arguments: ["flow", "release", "shadow-demo", "--version", "3", "--require-shadow"],
                environment: ["KEEL_DATABASE_URL": stack.database.url, "KEEL_ACTOR": "e2e-tester"])
            #expect(refused.status == 1, "\(refused.output)")
            #expect(refused.output.contains("refusing to release shadow-demo v3"), "\(refused.output)")
            #expect(refused.output.contains("condition_changed UNEXPLAINED"), "\(refused.output)")
            let live = try await keel(["flow", "show", "shadow-demo", "--json"], database: stack.database)
            let shown = (live.json as? [String: Any])?["version"] as? [String: Any]
            #expect(shown?["version"] as? Int == 1, "\(String(describing: live.json))")

            // The changed command is explained: released.
            let allowed = try await ServiceProcess.run(
                "keel", arguments: ["flow", "release", "shadow-demo", "--version", "2", "--require-shadow"],
                environment: ["KEEL_DATABASE_URL": stack.database.url, "KEEL_ACTOR": "e2e-tester"])
            #expect(allowed.status == 0, "\(allowed.output)")
            #expect(allowed.output.contains("none unexplained"), "\(allowed.output)")
            #expect(allowed.output.contains("shadow-demo: v2 is live (was v1)"), "\(allowed.output)")
            #expect(!FileManager.default.fileExists(atPath: proof))

            // A flow with no finished runs has nothing to shadow.
            let empty = try temporaryFile(
                Self.released.replacingOccurrences(of: "flow: shadow-demo", with: "flow: shadow-empty"))
            defer { try? FileManager.default.removeItem(atPath: empty) }
            #expect(try await keel(["flow", "push", empty], database: stack.database).status == 0)
            let nothing = try await ServiceProcess.run(
                "keel", arguments: ["flow", "release", "shadow-empty", "--require-shadow"],
                environment: ["KEEL_DATABASE_URL": stack.database.url, "KEEL_ACTOR": "e2e-tester"])
            #expect(nothing.status == 1)
            #expect(nothing.output.contains("no recorded runs to shadow"), "\(nothing.output)")
        } catch {
            try await stack.stop()
            throw error
        }
        try await stack.stop()
    }
}
