import KeelService
import KeelStore
import Logging

/// Checks each action against the token's role and records it (`api_actions`) with who asked: done,
/// refused by the state it met, or forbidden by the role.
struct ActionLog: Sendable {
    let store: APIActionStore
    let logger: Logger

    /// The request's principal when its role is at least `role`; else records the attempt as forbidden
    /// and throws 403. Reading (`action` nil) is checked but not recorded.
    func authorize(_ role: APITokenRole, action: String? = nil, target: String = "") async throws
        -> APITokenRecord
    {
        guard let principal = OperatorPrincipal.current else {
            throw ProblemDetails(
                status: .unauthorized, type: "/problems/unauthorized", title: "Authentication required",
                detail: "This endpoint needs an API token: send 'Authorization: Bearer <token>'.")
        }
        guard principal.role >= role else {
            if let action {
                await record(
                    action, target: target, by: principal, outcome: .forbidden,
                    detail: "needs the \(role.rawValue) role; the token has \(principal.role.rawValue)")
            }
            throw ProblemDetails(
                status: .forbidden, type: "/problems/role-required", title: "Role required",
                detail:
                    "This needs a token with the \(role.rawValue) role (or higher); yours is \(principal.role.rawValue)."
            )
        }
        return principal
    }

    /// Records an action; a failure to record is logged, never hidden from the operator's answer.
    func record(
        _ action: String, target: String, by principal: APITokenRecord, outcome: APIAction.Outcome,
        detail: String? = nil
    ) async {
        do {
            try await store.record(
                APIAction(
                    principal: principal.name, tokenID: principal.id, role: principal.role.rawValue,
                    action: action, target: target, outcome: outcome, detail: detail))
        } catch {
            logger.error(
                "cannot record an operators' API action",
                metadata: ["action": "\(action)", "target": "\(target)", "error": "\(error)"])
        }
    }
}
