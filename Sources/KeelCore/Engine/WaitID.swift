/// The id of an attempt's wait: `<run>:<step>:<attempt>:wait`. Deterministic, so the step-executor can
/// mint the callback token for a wait before the reducer opens it; the reducer, the store and the
/// executor all name waits through this one function.
public enum WaitID {
    public static func of(run: RunID, step: String, attempt: Int) -> String {
        of(run: run.description, step: step, attempt: attempt)
    }

    /// As `of(run:step:attempt:)`, from the run id's text (the reducer composes ids from text).
    public static func of(run: String, step: String, attempt: Int) -> String {
        "\(run):\(step):\(attempt):wait"
    }
}
