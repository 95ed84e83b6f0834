import Foundation
import KeelCore
import KeelStore
import KeelTestSupport
import Testing

/// The CLI's operator commands with an API token go through the approval-service as the token's holder:
/// they work with no database credentials at all (the database URL they are given leads nowhere), the
/// history names the token's holder, and the role is checked by the service.
@Suite(.serialized) struct OperatorCLIThroughAPITests {
    /// Runs `keel` with only the API to talk to.
    func keel(_ arguments: [String], api: String, token: String) async throws -> (
        status: Int32, output: String
    ) {
        try await ServiceProcess.run(
            "keel", arguments: arguments,
            environment: [
                "KEEL_APPROVAL_SERVICE_URL": api, "KEEL_API_TOKEN": token,
                "KEEL_DATABASE_URL": "postgres://nobody:nothing@127.0.0.1:1/none",
                "KEEL_STATE_DIR": "/nonexistent-keel-state",
            ])
    }

    @Test("Cancel, retry, release, rollback and tokens work through the API with no database credentials")
    func operatorCommandsThroughTheAPI() async throws {
        let stack = try await EngineStack(flows: [OperatorAPITests.gated, OperatorAPITests.quick])
        do {
            let api = try await stack.startApprovalService()
            let approver = try await stack.token("ava", groups: ["reviewers"])
            let op = try await stack.token("otto", role: .operator)
            let admin = try await stack.token("ada", role: .admin)

            try await stack.trigger("api-gated", input: #"{"ticket": "T-9"}"#, key: "cli-1")
            let run = try await stack.runID(key: "cli-1", flow: "api-gated")
            _ = try await stack.waitForStatus(run, "waiting")

            let forbidden = try await keel(
                ["run", "cancel", run, "--reason", "not mine"], api: api, token: approver)
            #expect(forbidden.status == 1, "\(forbidden.output)")
            #expect(forbidden.output.contains("Role required"))
            #expect(!forbidden.output.contains(approver))

            let cancelled = try await keel(
                ["run", "cancel", run, "--reason", "wrong ticket"], api: api, token: op)
            #expect(cancelled.status == 0, "\(cancelled.output)")
            #expect(cancelled.output.contains("now cancelled"))
            let again = try await keel(["run", "cancel", run, "--reason", "twice"], api: api, token: op)
            #expect(again.status == 1)

            let retried = try await keel(
                ["run", "retry", run, "--from", "gate", "--json"], api: api, token: op)
            #expect(retried.status == 0, "\(retried.output)")
            #expect(retried.output.contains("run.retry_requested"))
            let history = try await RunStore(pool: stack.pool).history(run: try #require(RunID(run)))
            #expect(history.first { $0.entry.kind == "run.cancel_requested" }?.entry.actor == "otto")

            let unchanged = try await keel(
                ["flow", "release", "api-quick", "--version", "1"], api: api, token: admin)
            #expect(unchanged.status == 0, "\(unchanged.output)")
            #expect(unchanged.output.contains("already live; nothing changed"))
            let notAdmin = try await keel(["flow", "rollback", "api-quick"], api: api, token: op)
            #expect(notAdmin.status == 1)
            let nothing = try await keel(["flow", "rollback", "api-quick"], api: api, token: admin)
            #expect(nothing.status == 1, "\(nothing.output)")

            let made = try await keel(
                ["token", "create", "--name", "bot-2", "--role", "approver"], api: api, token: admin)
            #expect(made.status == 0, "\(made.output)")
            #expect(made.output.contains("keel_"))
            let listed = try await keel(["token", "list", "--json"], api: api, token: admin)
            #expect(listed.output.contains("bot-2"))
            #expect(try await keel(["token", "revoke", "bot-2"], api: api, token: admin).status == 0)
            #expect(try await keel(["token", "revoke", "bot-2"], api: api, token: admin).status == 1)

            let forged = try await keel(["token", "list"], api: api, token: "keel_0123456789abcdef_nope")
            #expect(forged.status == 1)
            #expect(forged.output.contains("--api-token"))
            #expect(!forged.output.contains("keel_0123456789abcdef_nope"))

            let unreachable = try await keel(["token", "list"], api: "http://127.0.0.1:1", token: admin)
            #expect(unreachable.status == 2, "\(unreachable.output)")
        } catch {
            try await stack.stop()
            throw error
        }
        try await stack.stop()
    }

    @Test("Releasing the live version directly on the database is unchanged and succeeds")
    func releasingTheLiveVersionIsUnchanged() async throws {
        let stack = try await EngineStack(flows: [OperatorAPITests.quick], startingExecutor: false)
        do {
            let released = try await ServiceProcess.run(
                "keel", arguments: ["flow", "release", "api-quick", "--version", "1", "--json"],
                environment: ["KEEL_DATABASE_URL": stack.database.url, "KEEL_API_TOKEN": ""])
            #expect(released.status == 0, "\(released.output)")
            #expect(released.output.contains(#""unchanged" : true"#))
        } catch {
            try await stack.stop()
            throw error
        }
        try await stack.stop()
    }
}
