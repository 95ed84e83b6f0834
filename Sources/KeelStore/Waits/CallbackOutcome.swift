public import Foundation
public import KeelCore

/// What became of a received callback. Each case maps to one answer of the callback-gateway.
public enum CallbackOutcome: Sendable, Hashable {
    /// The callback ended its wait and advanced the run (200).
    case applied(WaitAnswer)
    /// The wait is not open yet: the callback is kept and applied when it opens (202).
    case keptEarly
    /// A heartbeat for the open wait: the next one is due by `due` (nil when the wait has no interval) (200).
    case heartbeatApplied(due: Date?)
    /// A callback already ended this wait: nothing changed; here is what it was told (200, idempotent).
    case alreadyAnswered(WaitAnswer)
    /// Nothing changed, for the reason given (409 or 422).
    case refused(CallbackRefusal)
}

/// Why a callback was refused. None of them changes the run.
public enum CallbackRefusal: Sendable, Hashable, CustomStringConvertible {
    /// The wait ended another way (timeout, cancellation, the run went back): its stored answer (409).
    case waitClosed(WaitAnswer)
    /// The output does not match the wait's schema, or names a resource twice (422).
    case invalidOutput([JSONSchemaValidationError])
    /// The claims do not name a wait of their own run, step and attempt, or no such run or step exists.
    case foreignWait
    /// The wait has not opened and never will, for the reason given (409).
    case waitWillNotOpen(String)

    public var description: String {
        switch self {
        case .waitClosed(let answer): "the wait is closed (\(answer.status.rawValue))"
        case .invalidOutput(let errors):
            "the output is not valid: \(errors.map(\.description).joined(separator: "; "))"
        case .foreignWait: "the token does not name a wait of this run"
        case .waitWillNotOpen(let reason): "the wait will never open: \(reason)"
        }
    }
}
