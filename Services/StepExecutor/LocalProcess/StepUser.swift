/// The unprivileged identity one `run` attempt's process runs as: a uid of its own and the group of the
/// same number, no supplementary groups (`StepUserPool` hands them out, one per attempt in flight).
struct StepUser: Sendable, Hashable {
    /// Where util-linux installs setpriv on Debian.
    static let standardSetpriv = "/usr/bin/setpriv"

    var uid: UInt32
    var gid: UInt32

    init(uid: UInt32, gid: UInt32? = nil) {
        self.uid = uid
        self.gid = gid ?? uid
    }

    /// What goes before the step's own argv: `setpriv` (util-linux) switches to this user, clears the
    /// supplementary groups, sets `no_new_privs` (no setuid binary can give the privileges back) and drops
    /// every capability, inheritable and bounding, then execs the rest.
    func switchingArguments(setpriv: String) -> [String] {
        [
            setpriv, "--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all", "--",
        ]
    }
}
