import KeelService
import KeelStore

extension ApprovalError {
    /// The problem the API answers with; its detail never names what the caller may not see.
    var problem: ProblemDetails {
        switch self {
        case .notFound:
            ProblemDetails(
                status: .notFound, type: "/problems/approval-not-found", title: "No such approval",
                detail: "There is no approval with this id that you may see.")
        case .notAnApprover:
            ProblemDetails(
                status: .forbidden, type: "/problems/not-an-approver", title: "Not an approver",
                detail: "Only the approvers this gate lists may decide it.")
        case .requesterUnauthenticated:
            ProblemDetails(
                status: .forbidden, type: "/problems/requester-unauthenticated",
                title: "Requester not authenticated",
                detail:
                    "The run's requester was not authenticated and its gate does not allow self-approval, so it cannot be approved."
            )
        case .ownRun:
            ProblemDetails(
                status: .forbidden, type: "/problems/own-run", title: "Cannot approve your own run",
                detail: "You triggered this run and its gate does not allow self-approval.")
        case .closed(let status):
            ProblemDetails(
                status: .conflict, type: "/problems/approval-closed", title: "Approval already closed",
                detail:
                    "The approval is \(status.rawValue.replacingOccurrences(of: "_", with: " ")); it takes no more decisions."
            )
        case .alreadyDecided:
            ProblemDetails(
                status: .conflict, type: "/problems/already-decided", title: "Already decided",
                detail: "You already recorded a decision on this approval.")
        case .boundChanged:
            ProblemDetails(
                status: .conflict, type: "/problems/bound-artifacts-changed",
                title: "Bound artifacts changed",
                detail: "The digests you sent are not the ones this approval is bound to; review it again.")
        case .requestChangesNotAllowed:
            ProblemDetails(
                status: .unprocessableContent, type: "/problems/request-changes-not-allowed",
                title: "Request changes not allowed",
                detail: "This approval gate has no request_changes rule.",
                errors: [.init(pointer: "/decision", detail: "this gate takes approve or reject")])
        case .noteRequired:
            ProblemDetails(
                status: .unprocessableContent, type: "/problems/invalid-body", title: "Invalid decision",
                detail: "/note: \(description)", errors: [.init(pointer: "/note", detail: description)])
        case .noteTooLong, .noteUnstorable:
            ProblemDetails(
                status: .unprocessableContent, type: "/problems/invalid-body", title: "Invalid decision",
                detail: description, errors: [.init(pointer: "/note", detail: description)])
        }
    }
}
