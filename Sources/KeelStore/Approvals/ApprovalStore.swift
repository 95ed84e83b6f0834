import Foundation
import Tracing
public import KeelCore
public import PGClient

/// Approvals as the approval-service serves them: listed and shown only to those who may see them, and
/// decided by listed approvers, one decision per approver, under the run's lock, so that of two
/// simultaneous decisions exactly one settles the gate (invariant 6).
public struct ApprovalStore: Sendable {
    /// The longest note a decision may carry, in characters.
    public static let maximumNoteLength = 10_000

    let pool: PGPool
    let advancer: RunAdvancer

    public init(pool: PGPool, advancer: RunAdvancer) {
        self.pool = pool
        self.advancer = advancer
    }

    /// The approvals `principal` may see, newest first; all statuses when `status` is nil.
    public func list(for principal: APITokenRecord, status: ApprovalStatus?, limit: Int = 200) async throws
        -> [ApprovalRecord]
    {
        try await pool.withConnection { connection in
            let listed = [principal.name] + principal.groups.map { "group:" + $0 }
            let rows = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM approvals
                WHERE (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
                  AND (\(principal.role >= .operator) OR approvers && \(listed))
                ORDER BY requested_at DESC, id
                LIMIT \(limit)
                """)
            var records = try rows.map(Self.record)
            let decisions = try await Self.decisions(of: records.map(\.id), on: connection)
            for index in records.indices { records[index].decisions = decisions[records[index].id] ?? [] }
            return records
        }
    }

    /// The approval, or nil when there is none with this id or `principal` may not see it: an outsider
    /// cannot tell the two apart.
    public func find(_ id: String, for principal: APITokenRecord) async throws -> ApprovalRecord? {
        // An id PostgreSQL cannot even compare (U+0000) names no approval.
        guard id.isStorable else { return nil }
        return try await pool.withConnection { connection in
            guard let record = try await Self.load(id, on: connection), record.isVisible(to: principal) else {
                return nil
            }
            return record
        }
    }

    /// Records `principal`'s decision and returns the approval after it. The gate is decided (and the run
    /// advanced, in the same transaction) by the first reject or request_changes, or by the approval that
    /// reaches `required_approvals`. `digests`, when given, must be the approval's current digests: what
    /// the approver reviewed is what they decide on.
    public func decide(
        _ id: String, by principal: APITokenRecord, decision: StepContext.Decision, note: String?,
        digests: [String]?
    ) async throws -> ApprovalRecord {
        guard id.isStorable else { throw ApprovalError.notFound }
        if let note, note.count > Self.maximumNoteLength { throw ApprovalError.noteTooLong }
        if let note, !note.isStorable { throw ApprovalError.noteUnstorable }
        if decision != .approve, (note ?? "").allSatisfy(\.isWhitespace) { throw ApprovalError.noteRequired }
        // A span in the run's trace (the approval id starts with the run's), around the decision's transaction.
        let traceparent = try await runTraceparent(ofApproval: id)
        return try await withSpan(
            "approval decision", context: TraceSpans.context(traceparent: traceparent), ofKind: .server
        ) { span in
            span.attributes["keel.decision"] = decision.rawValue
            return try await decideInSpan(id, by: principal, decision: decision, note: note, digests: digests)
        }
    }

    /// The trace of the run an approval id names, if it names one: an attempt's, or a budget gate's.
    private func runTraceparent(ofApproval id: String) async throws -> String? {
        guard let run = AttemptID(approvalID: id)?.run ?? BudgetGate.run(ofApprovalID: id) else { return nil }
        let rows = try await advancer.pool.withConnection { connection in
            try await connection.query("SELECT traceparent FROM runs WHERE id = \(run)")
        }
        guard let row = rows.first else { return nil }
        return try row.decode((String?).self)
    }

    private func decideInSpan(
        _ id: String, by principal: APITokenRecord, decision: StepContext.Decision, note: String?,
        digests: [String]?
    ) async throws -> ApprovalRecord {
        try await advancer.withTransaction { connection in
            guard let peek = try await Self.load(id, on: connection), peek.isVisible(to: principal)
            else { throw ApprovalError.notFound }
            let run = peek.runID
            // Lock order is the run first, as every advance does; then the approval as it now is.
            _ = try await lockRun(run, on: connection)
            guard var approval = try await Self.load(id, on: connection) else { throw ApprovalError.notFound }
            guard approval.lists(principal) else { throw ApprovalError.notAnApprover }
            guard approval.status == .pending else { throw ApprovalError.closed(approval.status) }
            // The requester is the authenticated principal that triggered the run, never the
            // trigger's self-declared actor; without one, a gate that forbids self-approval cannot tell
            // the requester from anyone else, so it approves nothing.
            if decision == .approve, !approval.allowSelfApproval {
                guard let requester = approval.requester else { throw ApprovalError.requesterUnauthenticated }
                if requester == principal.name { throw ApprovalError.ownRun }
            }
            if decision == .requestChanges, approval.requestChangesStep == nil {
                throw ApprovalError.requestChangesNotAllowed
            }
            if let digests, digests != approval.digests { throw ApprovalError.boundChanged }
            guard !approval.decisions.contains(where: { $0.approver == principal.name }) else {
                throw ApprovalError.alreadyDecided
            }
            let recorded = try await connection.query(
                """
                INSERT INTO approval_decisions (approval_id, approver, token_id, decision, note, digests)
                VALUES (\(id), \(principal.name), \(principal.id), \(decision.rawValue), \(note), \(approval.digests))
                RETURNING decided_at
                """)
            approval.decisions.append(
                ApprovalDecisionRecord(
                    approver: principal.name, decision: decision, note: note, digests: approval.digests,
                    decidedAt: try recorded[0].decode((Date).self)))
            guard let status = Self.settled(approval, by: decision) else { return approval }
            let reason = "\(status.rawValue.replacingOccurrences(of: "_", with: " ")) by \(principal.name)"
            let closed = try await connection.query(
                """
                UPDATE approvals SET status = \(status.rawValue), closed_at = now(), closed_reason = \(reason)
                WHERE id = \(id) RETURNING closed_at
                """)
            approval.status = status
            approval.closedAt = try closed[0].decode((Date).self)
            approval.closedReason = reason
            let step = approval.step
            try await advancer.advance(run: approval.runID, on: connection) { _ in
                RunFact(
                    at: .now,
                    event: .approvalDecided(
                        step: step, approvalID: id, decision: decision, actor: principal.name, note: note))
            }
            return approval
        }
    }

    /// The gate's status once this decision is counted, or nil while it still waits for approvals.
    static func settled(_ approval: ApprovalRecord, by decision: StepContext.Decision) -> ApprovalStatus? {
        switch decision {
        case .reject: .rejected
        case .requestChanges: .changesRequested
        case .approve: approval.approvalCount >= approval.requiredApprovals ? .approved : nil
        }
    }

    static let columns = """
        id, run_id, flow, version, step, attempt, status, summary, bound, digests, approvers,
        required_approvals, allow_self_approval, request_changes_step, requester, requested_at, timeout_at,
        closed_at, closed_reason,
        (SELECT runs.traceparent FROM runs WHERE runs.id = approvals.run_id)
        """

    static func load(_ id: String, on connection: PGConnection) async throws -> ApprovalRecord? {
        guard
            let row = try await connection.query(
                "SELECT \(unescaped: columns) FROM approvals WHERE id = \(id)"
            ).first
        else { return nil }
        var record = try record(row)
        record.decisions = try await decisions(of: [id], on: connection)[id] ?? []
        return record
    }

    static func record(_ row: PGRow) throws -> ApprovalRecord {
        let (
            id, runID, flow, version, step, attempt, status, summary, bound, digests, approvers,
            requiredApprovals, allowSelfApproval, requestChangesStep, requester, requestedAt, timeoutAt,
            closedAt, closedReason, traceparent
        ) = try row.decode(
            (
                String, RunID, String, Int, String, Int, String, String?, PGJSON, [String], [String],
                Int, Bool, String?, String?, Date, Date?,
                Date?, String?, String?
            ).self)
        guard let parsed = ApprovalStatus(rawValue: status) else {
            throw PGError(code: .decoding, message: "unknown approval status")
        }
        let boundValue = try JSONValue(parsing: bound.text)
        return ApprovalRecord(
            id: id, runID: runID, flow: flow, version: version, step: step, attempt: attempt,
            status: parsed, summary: summary, bound: boundValue.arrayValue ?? [],
            digests: digests, approvers: approvers, requiredApprovals: requiredApprovals,
            allowSelfApproval: allowSelfApproval, requestChangesStep: requestChangesStep,
            requester: requester, requestedAt: requestedAt, timeoutAt: timeoutAt,
            closedAt: closedAt, closedReason: closedReason, decisions: [],
            traceID: traceparent.flatMap(TraceContext.init(traceparent:))?.traceID)
    }

    static func decisions(of ids: [String], on connection: PGConnection) async throws
        -> [String: [ApprovalDecisionRecord]]
    {
        guard !ids.isEmpty else { return [:] }
        let rows = try await connection.query(
            """
            SELECT approval_id, approver, decision, note, digests, decided_at FROM approval_decisions
            WHERE approval_id = ANY(\(ids)) ORDER BY decided_at, approver
            """)
        var byApproval: [String: [ApprovalDecisionRecord]] = [:]
        for row in rows {
            let (approvalID, approver, rawDecision, note, digests, decidedAt) = try row.decode(
                (String, String, String, String?, [String], Date).self)
            guard let decision = StepContext.Decision(rawValue: rawDecision) else {
                throw PGError(code: .decoding, message: "unknown approval decision")
            }
            byApproval[approvalID, default: []].append(
                ApprovalDecisionRecord(
                    approver: approver, decision: decision, note: note, digests: digests,
                    decidedAt: decidedAt))
        }
        return byApproval
    }
}
