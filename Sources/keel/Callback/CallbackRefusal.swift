import Foundation

/// A final answer from the callback-gateway that is not a success — a 4xx other than 429, since 5xx and
/// 429 are retried — as the CLI reports it (exit 1).
struct CallbackRefusal: Error {
    let failure: CLIFailure

    /// Where to look when the token is refused, without ever saying what it is.
    static let tokenHint =
        "check \(CallbackEndpoint.tokenVariable) (or --token-file): it must be the token this job was started with"

    /// The problem's title, detail and field pointers; for a closed wait (409), also the wait's answer.
    init(status: Int, body: Data, gateway: String) {
        var failure = APIProblem.failure(
            status: status, body: body, service: "the callback-gateway at \(gateway)",
            tokenHint: Self.tokenHint)
        if status == 409, let wait = CallbackAnswer.closedWait(inProblem: body),
            case .user(let message) = failure
        {
            failure = .user(message + "\n  " + wait.summary)
        }
        self.failure = failure
    }
}
