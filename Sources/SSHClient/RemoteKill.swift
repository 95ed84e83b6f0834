/// How a command that has to stop early is killed on the server.
///
/// libssh2 1.10 cannot send the SSH "signal" request once a channel runs a command, and sshd does not
/// kill a command whose channel closes (it only loses its output pipes). So every command line exports
/// `KEEL_SSH_RUN_ID=<random id>`, which the command and everything it starts inherit; to stop it, a
/// second command on the same session finds the processes whose environment holds that id and sends
/// them TERM, then KILL to whatever is left after two seconds. This needs Linux's /proc and a grep with
/// `-z` (GNU or BusyBox); elsewhere, and for processes that clear their environment, the command is only
/// cut off from its channel and runs on.
enum RemoteKill {
    static let variable = "KEEL_SSH_RUN_ID"

    static func newRunID() -> String {
        String(UInt64.random(in: .min ... .max), radix: 16)
            + String(UInt64.random(in: .min ... .max), radix: 16)
    }

    /// The command line with the run id exported before it.
    static func tag(_ commandLine: String, runID: String) -> String {
        "export \(variable)=\(runID)\n\(commandLine)"
    }

    /// TERM, up to two seconds' grace, then KILL, for every process carrying the run id.
    static func command(runID: String) -> String {
        """
        keel_find() { grep -lzx '\(variable)=\(runID)' /proc/[0-9]*/environ 2>/dev/null | sed 's,^/proc/,,;s,/environ$,,'; }
        pids=$(keel_find); [ -z "$pids" ] && exit 0
        kill -s TERM $pids 2>/dev/null
        i=0
        while [ $i -lt 20 ]; do pids=$(keel_find); [ -z "$pids" ] && exit 0; sleep 0.1; i=$((i+1)); done
        kill -s KILL $pids 2>/dev/null
        exit 0
        """
    }
}
