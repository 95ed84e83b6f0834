#if canImport(Glibc)
    import Glibc
#endif
import Synchronization

/// Hands out the uids of `KEEL_STEP_UID_RANGE` (`StepIsolation.uidRange`), one per attempt in flight, so
/// two steps running at the same time never share a user and cannot read each other's files or
/// `/proc/<pid>` entries.
///
/// Every executor of the host shares the range: a uid is taken by an exclusive `flock` on
/// `<lockDirectory>/<uid>`, which the kernel drops when the executor dies however it dies. Uids are
/// taken round-robin, so a uid that was just given back is the last to be used again. Whatever a step
/// left running as its uid (a daemon that escaped its process group) is killed when the uid is taken
/// and when it is given back (`sweep`).
final class StepUserPool: Sendable {
    static let defaultLockDirectory = "/run/keel/step-uids"

    let range: ClosedRange<UInt32>
    let lockDirectory: String
    let setpriv: String
    /// Where the next search starts (an offset in `range`), and the uids this executor holds.
    private let state = Mutex<(cursor: UInt32, held: Set<UInt32>)>((0, []))

    init(
        range: ClosedRange<UInt32>, setpriv: String, lockDirectory: String = StepUserPool.defaultLockDirectory
    )
        throws(StepUserPoolError)
    {
        self.range = range
        self.setpriv = setpriv
        self.lockDirectory = lockDirectory
        var path = ""
        for component in lockDirectory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o700) != 0, errno != EEXIST { throw .lockDirectory(path, errno: errno) }
        }
        var status = stat()
        guard lstat(lockDirectory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR,
            status.st_uid == geteuid()
        else { throw .lockDirectory(lockDirectory, errno: EPERM) }
        _ = chmod(lockDirectory, 0o700)
    }

    /// The order uids are tried in: every uid of `range` once, starting `cursor` places in.
    static func candidates(in range: ClosedRange<UInt32>, from cursor: UInt32) -> [UInt32] {
        let count = UInt64(range.count)
        return (0..<count).map { range.lowerBound + UInt32((UInt64(cursor) + $0) % count) }
    }

    /// A uid no other attempt on this host holds, with nothing of a former attempt still running as it.
    func acquire() async throws -> StepUserLease {
        let lease = try take()
        await sweep(lease.user)
        return lease
    }

    /// Kills every process still running as `user` (`kill -KILL -1` run as that user: it reaches exactly
    /// that user's processes).
    func sweep(_ user: StepUser) async {
        let spec = LocalProcessSpec(
            arguments: ["/bin/sh", "-c", "kill -KILL -1 2>/dev/null; exit 0"],
            environment: ["PATH": RunDefaults.standardPath], user: user, setpriv: setpriv,
            timeout: .seconds(10))
        _ = try? await LocalProcess.run(spec) { _ in }
    }

    /// Gives the uid back (after `sweep`, once its attempt's files are gone).
    func release(_ lease: StepUserLease) {
        state.withLock { _ = $0.held.remove(lease.user.uid) }
        close(lease.lockDescriptor)
    }

    private func take() throws -> StepUserLease {
        try state.withLock { state in
            let candidates = Self.candidates(in: range, from: state.cursor)
            for (offset, uid) in candidates.enumerated() where !state.held.contains(uid) {
                let fd = open("\(lockDirectory)/\(uid)", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
                guard fd >= 0 else {
                    throw StepUserPoolError.lockDirectory("\(lockDirectory)/\(uid)", errno: errno)
                }
                guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                    close(fd)
                    continue
                }
                state.held.insert(uid)
                state.cursor = UInt32((UInt64(state.cursor) + UInt64(offset) + 1) % UInt64(range.count))
                return StepUserLease(user: StepUser(uid: uid), lockDescriptor: fd)
            }
            throw StepUserPoolError.exhausted(range)
        }
    }
}

/// A uid taken from a `StepUserPool`, held until `release`.
struct StepUserLease: Sendable {
    let user: StepUser
    /// The open lock file whose `flock` holds the uid.
    let lockDescriptor: Int32
}

enum StepUserPoolError: Error, Sendable, Hashable, CustomStringConvertible {
    case lockDirectory(String, errno: Int32)
    case exhausted(ClosedRange<UInt32>)

    var description: String {
        switch self {
        case .lockDirectory(let path, let errno):
            "cannot use the step uid lock \(path): \(String(cString: strerror(errno)))"
        case .exhausted(let range):
            "every uid of KEEL_STEP_UID_RANGE \(range.lowerBound)-\(range.upperBound) is in use on this host"
        }
    }
}
