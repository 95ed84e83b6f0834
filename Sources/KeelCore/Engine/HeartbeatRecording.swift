/// Which heartbeats the history records, so a job heartbeating every second for hours does not grow its
/// run's history without bound: the wait's first heartbeat, then — when the wait has a heartbeat
/// interval — one once at least half the interval has passed since the last recorded one. The others
/// change only the wait's row (its count, latest progress and time; `WaitCommands.heartbeat`).
///
/// The heartbeat deadline the engine enforces is derived from recorded heartbeats only, so replaying the
/// history gives the same deadline. It is always at least half an interval after the latest heartbeat:
/// a job that heartbeats at least every half interval never times out for want of one. A run's history
/// then holds at most 1 + 2 × (time waited ÷ interval) heartbeats per wait, and a wait without an
/// interval (where a heartbeat only reports progress) just one.
public enum HeartbeatRecording {
    /// Whether a heartbeat arriving `at` for a wait in `step`'s state becomes a history fact.
    public static func isRecorded(at time: Timestamp, step: StepState) -> Bool {
        guard step.heartbeats > 0 else { return true }
        guard let interval = step.heartbeatInterval, let due = step.heartbeatDue else { return false }
        return time >= due.adding(milliseconds: -(interval.milliseconds / 2))
    }
}
