/// What each `DatabaseRole` may do to each table: the one place Keel's least privilege is written down.
///
/// Any service that advances a run executes the reducer's commands in the same transaction (a decision
/// may schedule the next step, a new run may open an approval gate), so every service holds the
/// engine's grants (`engine`). What sets them apart is what only one of them does: trigger-intake creates
/// runs, the step-executor records step results (`step_attempts.outputs`), the approval-service records
/// decisions, the callback-gateway records callbacks. Nobody but `admin` writes flows, releases or
/// tokens. A table missing here is granted to nobody but `admin`.
public enum DatabasePrivileges {
    public typealias Grants = [String: Set<TablePrivilege>]

    /// Every table a migration creates; `admin` gets all of it, and a test checks the list against
    /// the schema so a new table cannot be forgotten.
    public static let tables: [String] = [
        "flows", "flow_versions", "flow_releases", "flow_templates", "runs", "run_history", "step_attempts",
        "run_timers", "concurrency_holders", "concurrency_waiters", "outbox", "resources",
        "resource_contents",
        "resource_chunks", "resource_uploads", "trigger_rejections", "api_tokens", "approvals",
        "approval_decisions", "waits", "callbacks", "amqp_publishers", "keel_schema_migrations",
        "flow_schedules", "api_actions", "webhook_deliveries", "webhook_attempts",
    ]

    /// The grants of `role`, table by table.
    public static func grants(of role: DatabaseRole) -> Grants {
        switch role {
        case .triggerIntake:
            return engine.merging([
                "runs": [.insert],
                "trigger_rejections": [.select, .insert],
                "amqp_publishers": [.select],
                // It fires the schedules: moves each one's next tick on.
                "flow_schedules": [
                    .select, .update(columns: ["next_fire_at", "last_tick_at", "last_run_id", "updated_at"]),
                ],
            ])
        case .stepExecutor:
            return engine.merging(resourceWriter).merging(["step_attempts": [.update]])
        case .approvalService:
            return engine.merging([
                "approvals": [.update(columns: ["status", "closed_at", "closed_reason"])],
                "approval_decisions": [.select, .insert],
                // The operators' API: admins release, roll back and manage tokens through it, every
                // action is recorded, and refused triggers are shown with their reasons.
                "api_tokens": [.select, .insert, .update(columns: ["last_used_at", "revoked_at"])],
                "flows": [.update(columns: ["live_version", "updated_at"])],
                "flow_releases": [.insert],
                // A release brings the released version's schedules into effect.
                "flow_schedules": [.select, .insert, .update, .delete],
                "trigger_rejections": [.select],
                "api_actions": [.select, .insert],
                // It alone sends webhook notifications (docs/notifications.md); attempts are append-only.
                "webhook_deliveries": [.select, .insert, .update],
                "webhook_attempts": [.select, .insert],
            ])
        case .callbackGateway:
            return engine.merging(resourceWriter).merging([
                "callbacks": [.select, .insert, .update]
            ])
        case .reader:
            return Dictionary(
                uniqueKeysWithValues: tables.filter { $0 != "api_tokens" }.map {
                    ($0, [TablePrivilege.select])
                })
        case .operator:
            return grants(of: .reader).merging(engine).merging([
                "flow_schedules": [.select, .update(columns: ["paused", "next_fire_at", "updated_at"])]
            ])
        case .admin:
            return Dictionary(
                uniqueKeysWithValues: tables.map {
                    ($0, [TablePrivilege.select, .insert, .update, .delete] as Set)
                })
        }
    }

    /// What advancing a run writes, whichever service does it: the run, its history and the commands
    /// the reducer returns (attempts scheduled or cancelled, timers, approval gates, waits, concurrency
    /// slots, messages in the outbox, which every service relays).
    static let engine: Grants = [
        "flows": [.select],
        "flow_versions": [.select],
        "flow_releases": [.select],
        "flow_templates": [.select],
        "keel_schema_migrations": [.select],
        "runs": [.select, .update],
        "run_history": [.select, .insert],
        "step_attempts": [
            .select, .insert, .update(columns: ["status", "finished_at", "error_class", "error_message"]),
        ],
        "run_timers": [.select, .insert, .delete],
        "concurrency_holders": [.select, .insert, .update, .delete],
        "concurrency_waiters": [.select, .insert, .update, .delete],
        "outbox": [.select, .insert, .update, .delete],
        "approvals": [.select, .insert, .update(columns: ["status", "closed_at", "closed_reason"])],
        "waits": [.select, .insert, .update],
        // A callback that arrived before its wait opened is applied by whoever opens the wait.
        "callbacks": [.select, .update(columns: ["applied", "applied_at", "answer"])],
        "resources": [.select],
        "resource_contents": [.select],
        "resource_chunks": [.select],
        "resource_uploads": [.select],
    ]

    /// Storing resources (a step's files, a callback's uploads), abandoned uploads included.
    static let resourceWriter: Grants = [
        "resources": [.select, .insert, .update],
        "resource_contents": [.select, .insert, .update],
        "resource_chunks": [.select, .insert, .delete],
        "resource_uploads": [.select, .insert, .update, .delete],
    ]
}

extension DatabasePrivileges.Grants {
    /// Both grant sets, privileges of a table in both united.
    func merging(_ other: Self) -> Self {
        merging(other) { $0.union($1) }
    }
}
