import KeelService
import KeelStore

/// The operators' API's own problems (the approvals' are in `ApprovalError+Problem.swift`).
enum Problems {
    static let runNotFound = ProblemDetails(
        status: .notFound, type: "/problems/run-not-found", title: "No such run",
        detail: "There is no run with this id.")

    static let jsonBodyRequired = ProblemDetails(
        status: .badRequest, type: "/problems/invalid-request", title: "Invalid request",
        detail: "Send the body as application/json.")

    static let brokerUnavailable = ProblemDetails(
        status: .serviceUnavailable, type: "/problems/broker-unavailable", title: "Broker unavailable",
        detail: "The broker did not take the trigger; nothing was started. Try again.")

    static func conflict(_ detail: String) -> ProblemDetails {
        ProblemDetails(
            status: .conflict, type: "/problems/conflict", title: "Not possible now", detail: detail)
    }

    static func notFound(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: .notFound, type: "/problems/not-found", title: "Not found", detail: detail)
    }

    /// A trigger trigger-intake refused, with its reason and the field at fault.
    static func triggerRejected(_ rejected: TriggerRejectionRecord) -> ProblemDetails {
        ProblemDetails(
            status: .unprocessableContent, type: "/problems/trigger-rejected/\(rejected.reason)",
            title: "Trigger rejected", detail: rejected.message,
            errors: rejected.field.map {
                [.init(pointer: "/" + $0.replacingOccurrences(of: ".", with: "/"), detail: rejected.message)]
            })
    }

    /// A flow store refusal as the status it means.
    static func flow(_ error: FlowStoreError) -> ProblemDetails {
        switch error {
        case .unknownFlow, .unknownVersion, .unknownTemplate, .unknownTemplateVersion, .unknownSchedule:
            notFound(error.description)
        case .noLiveRelease, .alreadyLive, .nothingToRollBack:
            conflict(error.description)
        }
    }
}
