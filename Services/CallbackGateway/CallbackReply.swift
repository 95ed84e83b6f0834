import Foundation
import KeelCore
import KeelService
import KeelStore

/// The gateway's answer to one callback, the same over HTTP (status and body) and AMQP (the body, sent
/// to `reply_to`): `{"outcome": ...}` when the callback was taken, RFC 9457 problem JSON when not.
struct CallbackReply: Error, Sendable, Hashable {
    /// The HTTP status.
    var status: Int
    var body: JSONValue
    /// What the metrics and the log call it: applied, heartbeat, kept_early, duplicate, wait_closed,
    /// invalid, malformed, unauthorized, expired.
    var outcome: String

    /// True when the callback changed nothing because of what was sent (a dead letter over AMQP).
    var isRefusal: Bool { status >= 400 && status != 409 }

    var isProblem: Bool { status >= 400 }

    static func taken(_ outcome: CallbackOutcome) -> CallbackReply {
        switch outcome {
        case .applied(let answer):
            CallbackReply(
                status: 200, body: ["outcome": "applied", "wait": json(answer)], outcome: "applied")
        case .alreadyAnswered(let answer):
            CallbackReply(
                status: 200, body: ["outcome": "already_answered", "wait": json(answer)], outcome: "duplicate"
            )
        case .heartbeatApplied(let due):
            CallbackReply(
                status: 200,
                body: [
                    "outcome": "heartbeat",
                    "next_heartbeat_due": due.map { .string($0.formatted(.iso8601)) } ?? .null,
                ],
                outcome: "heartbeat")
        case .keptEarly:
            CallbackReply(status: 202, body: ["outcome": "kept_early"], outcome: "kept_early")
        case .refused(.waitClosed(let answer)):
            problem(
                ProblemDetails(
                    status: .conflict, type: "/problems/wait-closed", title: "The wait is closed",
                    detail:
                        "The wait ended (\(answer.status.rawValue.replacingOccurrences(of: "_", with: " "))) before this callback; it changed nothing."
                ), outcome: "wait_closed", extra: ["wait": json(answer)])
        case .refused(.invalidOutput(let errors)):
            invalid(
                errors.map {
                    ProblemDetails.FieldError(pointer: "/output\($0.instanceLocation)", detail: $0.message)
                })
        case .refused(.waitWillNotOpen(let reason)):
            problem(
                ProblemDetails(
                    status: .conflict, type: "/problems/wait-closed", title: "The wait will never open",
                    detail:
                        "The wait this token was issued for will never open (\(reason)); the callback changed nothing."
                ),
                outcome: "wait_closed")
        case .refused(.foreignWait):
            unauthorized("The callback token does not name a wait of a run that exists.")
        }
    }

    static func refused(_ error: CallbackTokenError) -> CallbackReply {
        switch error {
        case .expired:
            problem(
                ProblemDetails(
                    status: .gone, type: "/problems/callback-token-expired", title: "Callback token expired",
                    detail:
                        "The callback token has expired; the wait it was issued for no longer takes callbacks."
                ),
                outcome: "expired")
        case .malformed, .forged, .wrongAudience:
            // "The callback token is malformed." / "...'s signature is not valid." / "...is not for this service."
            unauthorized(error.description.prefix(1).uppercased() + error.description.dropFirst() + ".")
        }
    }

    static func unauthorized(_ detail: String) -> CallbackReply {
        problem(
            ProblemDetails(
                status: .unauthorized, type: "/problems/invalid-callback-token",
                title: "Invalid callback token",
                detail: detail), outcome: "unauthorized")
    }

    static func malformed(_ detail: String) -> CallbackReply {
        problem(
            ProblemDetails(
                status: .badRequest, type: "/problems/malformed-body", title: "Malformed JSON body",
                detail: detail), outcome: "malformed")
    }

    /// A body over `CallbackRequest.maximumBodyBytes`, over HTTP (413) and AMQP alike.
    static let bodyTooLarge = problem(
        ProblemDetails(
            status: .contentTooLarge, type: "/problems/body-too-large", title: "Body too large",
            detail:
                "A callback body is at most \(CallbackRequest.maximumBodyBytes) bytes; upload large results as resources (POST /v1/callbacks/resources) and name them in \"resources\"."
        ), outcome: "invalid")

    static func invalid(_ errors: [ProblemDetails.FieldError]) -> CallbackReply {
        problem(
            ProblemDetails(
                status: .unprocessableContent, type: "/problems/invalid-callback", title: "Invalid callback",
                detail: errors.map { "\($0.pointer.isEmpty ? "body" : $0.pointer): \($0.detail)" }
                    .joined(separator: "; "),
                errors: errors), outcome: "invalid")
    }

    static func problem(_ problem: ProblemDetails, outcome: String, extra: JSONObject = [:]) -> CallbackReply
    {
        var body: JSONObject = [
            "type": .string(problem.type), "title": .string(problem.title),
            "status": .number(JSONNumber(problem.statusCode)),
        ]
        if let detail = problem.detail { body["detail"] = .string(detail) }
        if let errors = problem.errors {
            body["errors"] = .array(
                errors.map { .object(["pointer": .string($0.pointer), "detail": .string($0.detail)]) })
        }
        for (key, value) in extra { body[key] = value }
        return CallbackReply(status: problem.statusCode, body: .object(body), outcome: outcome)
    }

    static func json(_ answer: WaitAnswer) -> JSONValue {
        [
            "wait_id": .string(answer.waitID), "status": .string(answer.status.rawValue),
            "closed_at": .string(answer.closedAt.formatted(.iso8601)),
        ]
    }
}
