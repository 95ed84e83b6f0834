import Foundation
import KeelTestSupport
import Testing

/// The schedule and queue-limit commands refuse what cannot be, with exit 1 and a sentence saying why,
/// and change nothing.
@Suite struct ScheduleAndLimitRefusalTests: KeelCLITesting {
    static let flow = """
        flow: refusal-ticks
        schedules:
          - {id: nightly, cron: "0 3 * * *", input: {}}
        steps:
          - {id: a, noop: {}}
        """

    @Test func pausingOrResumingWhatIsNotAScheduleIsRefusedAndChangesNothing() async throws {
        let database = try await TestDatabase.create()
        defer { Task { try? await database.drop() } }
        #expect(try await keel(["migrate", "--database-url", database.url]).status == 0)
        let file = try temporaryFile(Self.flow)
        #expect(try await keel(["flow", "push", file], database: database).status == 0)
        #expect(try await keel(["flow", "release", "refusal-ticks"], database: database).status == 0)

        for (flow, id) in [
            ("refusal-ticks", "hourly"), ("no-such-flow", "nightly"), ("refusal-ticks", ""),
            ("refusal-ticks", "night\u{0}ly"), ("refusal-ticks", String(repeating: "x", count: 10_000)),
        ] {
            for verb in ["pause", "resume"] {
                let refused = try await ServiceProcess.run(
                    "keel", arguments: ["schedule", verb, flow, id],
                    environment: ["KEEL_DATABASE_URL": database.url])
                #expect(refused.status == 1, "\(verb) \(flow) \(id.prefix(20)): \(refused.output)")
                #expect(
                    refused.output.contains("has no schedule") || refused.output.contains("no flow")
                        || refused.output.contains("unknown flow"),
                    "\(refused.output.prefix(300))")
            }
        }
        let listed = try await keel(["schedule", "list", "--json"], database: database)
        let schedules = try #require(listed.json as? [[String: Any]])
        #expect(schedules.count == 1)
        #expect(schedules.first?["paused"] as? Bool == false)
    }

    @Test(arguments: ["0", "-5", "100000001", "many", "1e3", ""])
    func aQueueLimitOutOfRangeIsRefusedBeforeTheBrokerIsTouched(maxLength: String) async throws {
        // No broker settings at all: a refusal must come from the argument alone.
        let refused = try await ServiceProcess.run(
            "keel", arguments: ["broker", "limits", "--max-length", maxLength],
            environment: ["KEEL_AMQP_URL": "amqp://nobody:nothing@127.0.0.1:1/none"])
        #expect(refused.status != 0 && refused.status != 2, "\(refused.output)")
        #expect(refused.output.contains("max-length"), "\(refused.output)")
    }
}
