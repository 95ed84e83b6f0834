import Foundation

/// What one request to the callback-gateway came to: an HTTP answer, or no answer at all.
enum CallbackExchange: Sendable {
    /// The gateway (or a proxy in front of it) answered.
    case answered(status: Int, body: Data, retryAfter: Duration?)
    /// The request did not get an answer: refused connection, timeout, reset, unknown host.
    case unanswered(reason: String)

    /// Whether trying again may help: no answer, a 5xx, or 429. Other 4xx answers are final: the same
    /// request would be refused the same way.
    var isTransient: Bool {
        switch self {
        case .unanswered: true
        case .answered(let status, _, _): status >= 500 || status == 429
        }
    }

    /// Why an attempt failed, for the retry notice and the give-up message: the status and the problem's
    /// title and detail, or the transport's reason.
    var failureReason: String {
        switch self {
        case .unanswered(let reason):
            return reason
        case .answered(let status, let body, _):
            let problem = try? JSONDecoder().decode(APIProblem.self, from: body)
            let message = problem?.message ?? ""
            return message.isEmpty ? "HTTP \(status)" : "HTTP \(status): \(message)"
        }
    }
}
