/// Where a detached `ssh` job keeps its marker and its output on the host, relative to the login folder:
/// `.keel/jobs/<idempotency key>.pid` and `.log` (characters other than letters, digits, `.`, `_` and `-`
/// become `_`). The pid file is what makes a repeated start find the running job, and what the reaper
/// reads; it is left in place after the job ends so that the attempt never starts twice.
struct SSHJobFiles: Sendable, Hashable {
    static let folder = ".keel/jobs"

    var pidFile: String
    var logFile: String
    /// The idempotency key, which the job has in its environment as `KEEL_IDEMPOTENCY_KEY`: what proves
    /// that the process the pid file names is still this attempt's job.
    var idempotencyKey: String

    /// What `SSHSession/stopDetached(pidFile:grace:marker:)` requires of the job's environment.
    var marker: (name: String, value: String) { ("KEEL_IDEMPOTENCY_KEY", idempotencyKey) }

    init(idempotencyKey: String) {
        self.idempotencyKey = idempotencyKey
        let name = String(
            String.UnicodeScalarView(
                idempotencyKey.unicodeScalars.map { scalar in
                    scalar.isASCII
                        && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                            || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_"
                            || scalar == "-")
                        ? scalar : "_"
                }))
        let base = "\(Self.folder)/\(name.hasPrefix(".") ? "_" + name : name)"
        pidFile = base + ".pid"
        logFile = base + ".log"
    }
}
