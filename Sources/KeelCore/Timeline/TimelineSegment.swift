/// A stretch of one attempt in a run's picture: queued (handed out, not yet picked up), running (an
/// executor at work) or waiting (for a callback or an approval).
struct TimelineSegment: Sendable, Hashable {
    enum Phase: String, Sendable, Hashable {
        case queued
        case running
        case waiting
    }

    var phase: Phase
    var start: Timestamp
    var end: Timestamp

    /// The stretches of `attempt`, in order; an attempt still in flight ends at `end`.
    static func segments(of attempt: AttemptTimeline, end: Timestamp) -> [TimelineSegment] {
        let finish = max(attempt.finishedAt ?? end, attempt.scheduledAt)
        let waitBegan = attempt.wait?.openedAt ?? attempt.approval?.requestedAt
        var segments: [TimelineSegment] = []
        func add(_ phase: Phase, _ start: Timestamp, _ end: Timestamp) {
            if end > start { segments.append(TimelineSegment(phase: phase, start: start, end: end)) }
        }
        if let startedAt = attempt.startedAt {
            add(.queued, attempt.scheduledAt, min(startedAt, finish))
            add(.running, startedAt, min(waitBegan.map { max($0, startedAt) } ?? finish, finish))
            if let waitBegan { add(.waiting, max(waitBegan, startedAt), finish) }
        } else if let waitBegan {
            add(.queued, attempt.scheduledAt, min(waitBegan, finish))
            add(.waiting, max(waitBegan, attempt.scheduledAt), finish)
        } else {
            add(.queued, attempt.scheduledAt, finish)
        }
        return segments
    }
}
