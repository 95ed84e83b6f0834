#if canImport(Glibc)
    import Glibc
#endif
import CKeelProcess
import Foundation
import Synchronization

/// The thread-side half of `LocalProcess`: spawns, feeds, reads, times out and reaps one process.
struct Supervisor {
    static let spawnLock = Mutex<Void>(())

    let spec: LocalProcessSpec
    let cancelled: CancellationFlag
    let onOutput: @Sendable (LocalProcessOutput) -> Void

    func run() throws -> LocalProcessResult {
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        // Pipes are close-on-exec, created and spawned under one lock: a process spawned at the same
        // time by another step must not inherit these ends, or this child's stdin would never see
        // end-of-file. (`pipe2` with O_CLOEXEC is not visible to Swift here.)
        let pid: pid_t = try Self.spawnLock.withLock { _ in
            guard pipe(&input) == 0, pipe(&output) == 0, pipe(&errors) == 0 else {
                for fd in input + output + errors where fd >= 0 { close(fd) }
                throw LocalProcessError(
                    description: "cannot create pipes: \(String(cString: strerror(errno)))")
            }
            for fd in input + output + errors { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            do {
                return try spawn(stdin: input[0], stdout: output[1], stderr: errors[1])
            } catch {
                for fd in input + output + errors { close(fd) }
                throw error
            }
        }
        close(input[0])
        close(output[1])
        close(errors[1])
        for fd in [input[1], output[0], errors[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return supervise(pid: pid, stdin: input[1], stdout: output[0], stderr: errors[0])
    }

    /// posix_spawnp into a new process group (its id is the child's pid).
    private func spawn(stdin: Int32, stdout: Int32, stderr: Int32) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        // Then nothing else: a descriptor opened elsewhere without close-on-exec (a library's socket)
        // must not reach the step.
        guard keel_spawn_file_actions_addclosefrom(&actions, 3) == 0 else {
            throw LocalProcessError(description: "cannot close the executor's descriptors in the child")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)

        // The working directory through the shell: posix_spawn_file_actions_addchdir_np is not
        // visible to Swift here. `exec` replaces the shell, so the command is still the group leader;
        // the shell's own PWD and OLDPWD are dropped so the environment is exactly the spec's.
        var argv = spec.arguments
        if let directory = spec.workingDirectory {
            argv = ["/bin/sh", "-c", "cd \"$0\" && unset PWD OLDPWD && exec \"$@\"", directory] + argv
        }
        // posix_spawnp searches the PATH of the caller; look the program up in the step's PATH instead.
        // posix_spawn cannot switch users: setpriv does, then looks the program up in the step's PATH
        // (its environment is the step's) and execs it as that user.
        let program: String
        if let user = spec.user {
            program = spec.setpriv
            argv = user.switchingArguments(setpriv: spec.setpriv) + argv
        } else {
            program = resolve(argv[0])
        }
        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        let cEnvironment: [UnsafeMutablePointer<CChar>?] =
            spec.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cEnvironment.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, program, &actions, &attributes, cArguments, cEnvironment)
        guard status == 0 else {
            throw LocalProcessError(
                description: "cannot start \(spec.arguments[0]): \(String(cString: strerror(status)))")
        }
        return pid
    }

    private func resolve(_ program: String) -> String {
        guard !program.contains("/") else { return program }
        let path = spec.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return program
    }

    private func supervise(pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32) -> LocalProcessResult {
        var stdinFD: Int32 = stdin
        var open: [Int32: Bool] = [stdout: true, stderr: true]
        var pendingInput = spec.standardInput[...]
        if pendingInput.isEmpty {
            close(stdinFD)
            stdinFD = -1
        }
        let start = ContinuousClock.now
        let deadline = spec.timeout.map { start + $0 }
        var terminatedAt: ContinuousClock.Instant?
        var killed = false
        var timedOut = false
        var wasCancelled = false
        var exitStatus: Int32?
        var exitedAt: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 65_536)

        while open.values.contains(true) || exitStatus == nil {
            // Reap the main process without blocking; once it is gone, nothing else of the group may stay.
            if exitStatus == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    exitStatus = status
                    exitedAt = ContinuousClock.now
                    kill(-pid, SIGKILL)
                }
            }
            let now = ContinuousClock.now
            if exitStatus == nil, terminatedAt == nil {
                if cancelled.isSet {
                    wasCancelled = true
                } else if let deadline, now >= deadline {
                    timedOut = true
                }
                if wasCancelled || timedOut {
                    kill(-pid, SIGTERM)
                    terminatedAt = now
                }
            }
            if let terminatedAt, !killed, now >= terminatedAt + spec.killGrace {
                kill(-pid, SIGKILL)
                killed = true
            }
            // A grandchild that escaped the group could hold the pipes open; stop reading a while after exit.
            if let exitedAt, now > exitedAt + .seconds(5) { break }

            var fds: [pollfd] = open.filter(\.value).map {
                pollfd(fd: $0.key, events: Int16(POLLIN), revents: 0)
            }
            if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if fds.isEmpty {
                if exitStatus == nil { usleep(10_000) }
                continue
            }
            let ready = poll(&fds, nfds_t(fds.count), 50)
            guard ready > 0 else { continue }
            for entry in fds where entry.revents != 0 {
                if entry.fd == stdinFD {
                    let written = pendingInput.withUnsafeBytes { write(stdinFD, $0.baseAddress, $0.count) }
                    if written > 0 { pendingInput = pendingInput.dropFirst(written) }
                    if written < 0 && errno != EAGAIN || pendingInput.isEmpty {
                        close(stdinFD)
                        stdinFD = -1
                    }
                    continue
                }
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    let chunk = Array(buffer[0..<count])
                    onOutput(entry.fd == stdout ? .standardOutput(chunk) : .standardError(chunk))
                } else if count == 0 || errno != EAGAIN {
                    open[entry.fd] = false
                }
            }
        }
        if stdinFD >= 0 { close(stdinFD) }
        close(stdout)
        close(stderr)
        if exitStatus == nil {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            exitStatus = status
        }
        let status = exitStatus ?? 0
        let exited = (status & 0x7F) == 0
        return LocalProcessResult(
            exitCode: exited ? (status >> 8) & 0xFF : nil, signal: exited ? nil : status & 0x7F,
            timedOut: timedOut, cancelled: wasCancelled)
    }
}
