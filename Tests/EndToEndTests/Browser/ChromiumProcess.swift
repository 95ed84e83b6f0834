import Foundation
import KeelStore
import KeelTestSupport
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A headless Chromium started with `posix_spawn` in its own process group, its DevTools pipe on fds 3
/// (commands) and 4 (replies), a throw-away profile and its output in a log file. Killing the group ends
/// every helper process Chromium started (renderers, zygotes, the GPU/network utilities).
final class ChromiumProcess: Sendable {
    /// The browser's process id, which is also its process group id.
    let pid: pid_t
    /// The throw-away `--user-data-dir`.
    let profile: URL
    /// Where the browser's stdout and stderr go.
    let logFile: URL
    private let reaped = Mutex(false)

    /// The browser to run: `KEEL_CHROMIUM`, else Debian's `/usr/bin/chromium` (package `chromium`, in
    /// scripts/debian-packages).
    static var executable: String {
        TestEnvironment.value("KEEL_CHROMIUM") ?? "/usr/bin/chromium"
    }

    private init(pid: pid_t, profile: URL, logFile: URL) {
        self.pid = pid
        self.profile = profile
        self.logFile = logFile
    }

    /// Starts the browser and returns it with the DevTools connection on its pipe (not yet started).
    static func launch() throws -> (ChromiumProcess, DevToolsConnection) {
        // A browser that dies mid-write must give EPIPE, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keel-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        let logFile = profile.appendingPathComponent("browser.log")

        // Our ends stay close-on-exec; the browser's ends are dup2'd onto 3 and 4, which clears the flag.
        // All four are first moved to 10 and above so no dup2 can overwrite another of them.
        let (browserReads, commands) = try pipeAboveStandardDescriptors()
        let (replies, browserWrites) = try pipeAboveStandardDescriptors()

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_adddup2(&actions, browserReads, 3)
        posix_spawn_file_actions_adddup2(&actions, browserWrites, 4)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group (so the whole tree can be killed), default SIGPIPE, nothing blocked.
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)

        let arguments = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
            "--user-data-dir=\(profile.path)", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-sync", "--disable-dev-shm-usage", "about:blank",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, &argv, environ)
        _ = close(browserReads)
        _ = close(browserWrites)
        guard status == 0 else {
            _ = close(commands)
            _ = close(replies)
            throw BrowserError.launchFailed("posix_spawn \(executable): \(String(cString: strerror(status)))")
        }
        let process = ChromiumProcess(pid: pid, profile: profile, logFile: logFile)
        // Weakly: the reader thread keeps the connection alive until the pipe closes, and a browser dropped
        // without close() must still reach ChromiumProcess.deinit, which kills it (and so closes the pipe).
        let connection = DevToolsConnection(commands: commands, replies: replies) { [weak process] in
            process?.log ?? ""
        }
        return (process, connection)
    }

    /// What the browser wrote to stdout and stderr so far.
    var log: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// Whether the browser process has exited and been reaped.
    var hasExited: Bool {
        reap()
    }

    /// Kills the whole process group, reaps the browser and deletes its profile. Idempotent.
    func kill() async {
        _ = Glibc.kill(-pid, SIGKILL)
        let deadline = ContinuousClock.now + .seconds(60)
        while !reap() && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        // The helpers got the same SIGKILL, but on a busy machine one may still be on its way out (not
        // yet a zombie) when the browser itself has been reaped: give them a bounded moment to go.
        let helpersDeadline = ContinuousClock.now + .seconds(10)
        while !survivors().isEmpty && ContinuousClock.now < helpersDeadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let profile = profile
        _ = try? await BlockingIO.run { try FileManager.default.removeItem(at: profile) }
    }

    /// Processes still alive (not zombies) in the browser's process group, read from /proc.
    func survivors() -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> pid_t? in
            guard let candidate = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let afterName = stat.range(of: ") ", options: .backwards)
            else { return nil }
            // Fields after "(comm) ": state, ppid, pgrp, ...
            let fields = stat[afterName.upperBound...].split(separator: " ")
            guard fields.count > 2, fields[0] != "Z", pid_t(fields[2]) == pid else { return nil }
            return candidate
        }
    }

    /// Reaps the browser if it has exited (never blocks); true once it has been reaped.
    @discardableResult
    private func reap() -> Bool {
        reaped.withLock { reaped in
            if reaped { return true }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            reaped = result == pid || (result < 0 && errno == ECHILD)
            return reaped
        }
    }

    /// A close-on-exec pipe (read end, write end), both descriptors numbered 10 or more.
    private static func pipeAboveStandardDescriptors() throws -> (Int32, Int32) {
        // Glibc's module has no pipe2; the plain ends live only until they are moved just below.
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            throw BrowserError.launchFailed("pipe: \(String(cString: strerror(errno)))")
        }
        let moved = ends.map { end in
            let high = fcntl(end, F_DUPFD_CLOEXEC, 10)
            _ = close(end)
            return high
        }
        guard moved.allSatisfy({ $0 >= 0 }) else {
            for end in moved where end >= 0 { _ = close(end) }
            throw BrowserError.launchFailed("fcntl: \(String(cString: strerror(errno)))")
        }
        return (moved[0], moved[1])
    }

    /// A browser left running by a test that threw: kill the group so nothing outlives the test process.
    deinit {
        if !reaped.withLock({ $0 }) {
            _ = Glibc.kill(-pid, SIGKILL)
        }
    }
}
