import Crypto

/// The delay before a retry: the policy's backoff, then "full jitter" drawn deterministically.
///
/// The jitter is not random: it is the first 8 bytes (big-endian) of SHA-256 over
/// `<run id> NUL <step> NUL <attempt>`, taken modulo the backoff in milliseconds plus one, so the
/// delay lies in `0...backoff`, differs between runs, steps and attempts, and is the same on every
/// replay. (The modulo bias is below 2^-40 for any delay up to 366 days.)
public enum RetryDelay {
    /// The backoff before the retry that follows the `failures`-th failed attempt of a round
    /// (1 for the first failure): `initial` for fixed; `initial × 2^(failures−1)` for exponential;
    /// at most `maximum` (and never more than `FlowDuration.maximum`).
    public static func backoff(_ policy: RetryPolicy, failures: Int) -> FlowDuration {
        let cap = min(policy.maximum ?? FlowDuration.maximum, FlowDuration.maximum).milliseconds
        let initial = policy.initial.milliseconds
        var milliseconds = initial
        if policy.backoff == .exponential {
            for _ in 1..<max(failures, 1) {
                milliseconds *= 2
                if milliseconds >= cap { break }
            }
        }
        return FlowDuration(milliseconds: min(milliseconds, cap))
    }

    /// The delay before `attempt` (2 or more) of `step` in run `runID`, after `failures` failed
    /// attempts in the round: the backoff, jittered when the policy asks for it.
    public static func delay(
        _ policy: RetryPolicy, failures: Int, runID: String, step: String, attempt: Int
    ) -> FlowDuration {
        let backoff = backoff(policy, failures: failures)
        guard policy.jitter, backoff.milliseconds > 0 else { return backoff }
        let draw = jitterDraw(runID: runID, step: step, attempt: attempt)
        return FlowDuration(milliseconds: Int64(draw % UInt64(backoff.milliseconds + 1)))
    }

    /// The 64-bit deterministic draw behind the jitter.
    public static func jitterDraw(runID: String, step: String, attempt: Int) -> UInt64 {
        var bytes = Array(runID.utf8)
        bytes.append(0)
        bytes.append(contentsOf: step.utf8)
        bytes.append(0)
        bytes.append(contentsOf: String(attempt).utf8)
        let digest = Array(SHA256.hash(data: bytes))
        return digest.prefix(8).reduce(0) { ($0 << 8) | UInt64($1) }
    }
}
