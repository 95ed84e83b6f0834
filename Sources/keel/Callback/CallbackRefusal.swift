import Foundation

/// How the CLI reports a final answer from the callback-gateway that is not a success — a 4xx other than
/// 429, since 5xx and 429 are retried: exit 1 with the problem's title, detail and field pointers.
enum CallbackRefusal {
    /// Where to look when the token is refused, without ever saying what it is.
    static let tokenHint =
        "check \(CallbackEndpoint.tokenVariable) (or --token-file): it must be the token this job was started with"

    /// The failure for an answer with `status` and `body`; for a closed wait (409) it ends with the wait's
    /// answer. `gateway` is the URL to name when the body is no problem document.
    static func failure(status: Int, body: Data, gateway: String) -> CLIFailure {
        let failure = APIProblem.failure(
            status: status, body: body, service: "the callback-gateway at \(gateway)", tokenHint: tokenHint)
        guard status == 409, let wait = CallbackAnswer.closedWait(inProblem: body),
            case .user(let message) = failure
        else { return failure }
        return .user(message + "\n  " + wait.summary)
    }
}
