import CKeelProcess

/// Makes the service's process non-dumpable (`PR_SET_DUMPABLE` 0) before it reads anything secret.
///
/// A dumpable process's `/proc/<pid>/environ`, `mem` and `maps` are readable, and the process can be
/// ptraced, by any process of the same user: a `run` step running as the executor's user would read the
/// database URL and callback keys straight from it. Non-dumpable, those files belong to root and
/// ptrace needs CAP_SYS_PTRACE. No core dumps is the price (docs/security.md).
public enum ProcessDumpability {
    /// Turns dumping off for the rest of the process's life; false when the kernel refused.
    @discardableResult
    public static func makeNonDumpable() -> Bool {
        keel_process_set_non_dumpable() == 0
    }

    /// Whether the process is still dumpable.
    public static var isDumpable: Bool {
        keel_process_is_dumpable() != 0
    }
}
