import Foundation

/// The callback-gateway's answer to a callback that was taken (200 or 202), and the one line the CLI
/// prints for it.
struct CallbackAnswer: Decodable, Equatable {
    /// `applied`, `already_answered`, `heartbeat` or `kept_early`.
    var outcome: String
    var wait: WaitAnswer?
    /// Only for a heartbeat: when the next one is due, or nil when none is.
    var nextHeartbeatDue: String?

    /// The closed wait's answer, as the gateway reports it (also in a 409 problem).
    struct WaitAnswer: Decodable, Equatable {
        var waitID: String?
        var status: String?
        var closedAt: String?

        enum CodingKeys: String, CodingKey {
            case waitID = "wait_id"
            case status
            case closedAt = "closed_at"
        }

        /// `wait 0193…:deploy:1:wait succeeded at 2026-11-27T11:00:00Z`.
        var summary: String {
            var text = "wait \(waitID ?? "?") \(status ?? "closed")"
            if let closedAt { text += " at \(closedAt)" }
            return text
        }
    }

    enum CodingKeys: String, CodingKey {
        case outcome, wait
        case nextHeartbeatDue = "next_heartbeat_due"
    }

    /// The answer in a 2xx body, or nil when the body is not one (a proxy's page, a newer gateway's
    /// outcome this keel does not know).
    static func decode(_ body: Data) -> CallbackAnswer? {
        guard let answer = try? JSONDecoder().decode(CallbackAnswer.self, from: body),
            ["applied", "already_answered", "heartbeat", "kept_early"].contains(answer.outcome)
        else { return nil }
        return answer
    }

    /// What happened, in one line.
    var summary: String {
        switch outcome {
        case "applied":
            let wait = wait.map { "wait \($0.waitID ?? "?") \($0.status ?? "answered")" } ?? "the callback"
            return "applied: " + wait
        case "already_answered":
            return "already answered: " + (wait?.summary ?? "the wait was answered before")
        case "heartbeat":
            return "heartbeat recorded; "
                + (nextHeartbeatDue.map { "next due \($0)" } ?? "no further heartbeat due")
        default:
            return "kept until its wait opens"
        }
    }

    /// The wait a 409 `/problems/wait-closed` problem carries, for the failure message.
    static func closedWait(inProblem body: Data) -> WaitAnswer? {
        struct Problem: Decodable { var wait: WaitAnswer? }
        return (try? JSONDecoder().decode(Problem.self, from: body))?.wait
    }
}
