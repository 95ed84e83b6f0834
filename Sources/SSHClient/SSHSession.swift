import Dispatch
public import Logging

/// One authenticated SSH connection to one server, on which commands run one after another.
///
/// A session owns one socket and one libssh2 session, driven only from its own serial `DispatchQueue`
/// (never Swift's cooperative pool); async calls wait for their turn on that queue. Every wait inside
/// libssh2 is a `poll` that a deadline, Task cancellation or ``close()`` interrupts at once. Commands run
/// through the user's login shell, one channel each. Call ``close()`` when done.
public final class SSHSession: Sendable {
    private let connection: SessionConnection
    private let queue: DispatchQueue

    /// The longest the helper commands of ``startDetached(_:environment:logFile:)`` and
    /// ``signal(pid:_:processGroup:)`` may take.
    static let helperTimeout: Duration = .seconds(30)

    private init(connection: SessionConnection) {
        self.connection = connection
        self.queue = DispatchQueue(
            label: "keel.ssh.\(connection.configuration.user)@\(connection.configuration.host):"
                + "\(connection.configuration.port)")
    }

    /// Connects, verifies the host key (refusing unknown or changed keys before authenticating) and
    /// authenticates with the configured key, all within `configuration.connectTimeout`.
    public static func connect(_ configuration: SSHConfiguration, logger: Logger) async throws
        -> SSHSession
    {
        var logger = logger
        logger[metadataKey: "ssh.server"] = "\(configuration.host):\(configuration.port)"
        logger[metadataKey: "ssh.user"] = "\(configuration.user)"
        guard let interrupter = Interrupter() else {
            throw SSHError(
                code: .connectionFailed, message: "no pipe could be created for the session's wake-ups",
                host: configuration.host, port: configuration.port)
        }
        let session = SSHSession(
            connection: SessionConnection(
                configuration: configuration, logger: logger, interrupter: interrupter))
        let timeout = configuration.connectTimeout
        try await session.perform(activity: "connecting", timeout: timeout, command: nil) {
            connection, operation in try connection.connect(operation)
        }
        return session
    }

    /// Runs `command` with the login shell and collects its output.
    ///
    /// `environment` is exported by the command line itself (sshd's AcceptEnv is not needed); values are
    /// passed literally. With a `timeout`, which also counts time spent waiting for the session, expiry
    /// stops the command (see the module README) and throws `.timeout`. A non-zero exit status is a
    /// result, not an error.
    public func execute(
        _ command: String, environment: [String: String] = [:], timeout: Duration? = nil
    )
        async throws -> SSHCommandResult
    {
        let line = try commandLine(command, environment)
        return try await collect(
            line, activity: "running the command", timeout: timeout, command: command)
    }

    /// Runs `command` like ``execute(_:environment:timeout:)`` but hands over output as it arrives, ending
    /// with `.exit`. Cancelling the consuming Task, or dropping the stream, stops the command.
    ///
    /// The stream buffers without limit: a consumer much slower than the command holds its output in memory.
    public func stream(
        _ command: String, environment: [String: String] = [:], timeout: Duration? = nil
    )
        -> AsyncThrowingStream<SSHOutput, any Error>
    {
        let (stream, continuation) = AsyncThrowingStream<SSHOutput, any Error>.makeStream()
        let line: String
        do {
            line = try commandLine(command, environment)
        } catch {
            continuation.finish(throwing: error)
            return stream
        }
        let operation = OperationContext(
            activity: "running the command", deadline: timeout.map { .now + $0 },
            closing: connection.closing)
        let connection = self.connection
        let interrupter = connection.interrupter
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                operation.cancellation.set()
                interrupter.wake()
            }
        }
        queue.async {
            do {
                let exit = try Self.naming(command) {
                    try connection.run(line, operation) { continuation.yield($0) }
                }
                continuation.yield(.exit(exit.status))
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }

    /// Starts `command` so that it outlives this session and returns its pid on the server.
    ///
    /// The command runs under `sh -c` in a new session and process group (`setsid`, so the remote host
    /// needs util-linux), with stdin from /dev/null and stdout and stderr appended to `logFile` (default
    /// /dev/null); the call returns as soon as it started. `environment` and the start script are
    /// written to `sh -s` on stdin, so no command line (visible to every user in `ps`) holds the values.
    /// Pass `processGroup: true` to ``signal(pid:_:processGroup:)`` to reach the processes it starts too.
    public func startDetached(
        _ command: String, environment: [String: String] = [:], logFile: String? = nil
    )
        async throws -> Int32
    {
        let detached = try commandLine(
            try validated { try ShellCommand.detached(command, logFile: logFile) }, environment)
        let result = try await collect(
            ShellCommand.scriptFromStdin, stdin: ShellCommand.script(detached),
            activity: "starting the detached command", timeout: Self.helperTimeout, command: command)
        // The last non-empty line: a login rc file may print before it.
        let text =
            result.stdoutText.split(whereSeparator: \.isNewline)
            .last { !$0.allSatisfy(\.isWhitespace) }.map { $0.filter { !$0.isWhitespace } } ?? ""
        guard result.exitStatus == 0, let pid = Int32(text), pid > 0 else {
            throw remoteFailure(
                "the detached command could not be started (exit status \(result.exitStatus))", result,
                command)
        }
        connection.logger.debug("started detached command", metadata: ["ssh.pid": "\(pid)"])
        return pid
    }

    /// Starts `command` detached, like ``startDetached(_:environment:logFile:)``, unless `pidFile` on the
    /// server already names a job: then nothing starts and that job's pid comes back with
    /// `alreadyStarted` (and `running` false when it has ended). Use one pid file per unit of work (an
    /// idempotency key) to make a redelivered request safe. Relative paths are taken from the login
    /// folder; the pid file's folder is created.
    ///
    /// Only the last line of the script's output is read, so a login rc file that prints is harmless. A
    /// pid file that stays empty (an earlier start died before writing the pid) throws
    /// `.remoteCommandFailed`: nothing is started under it, and a job may be running without a known pid.
    public func startDetachedOnce(
        _ command: String, environment: [String: String] = [:], pidFile: String, logFile: String? = nil
    ) async throws -> DetachedStart {
        let line = try commandLine(
            try validated { try ShellCommand.detachedOnce(command, pidFile: pidFile, logFile: logFile) },
            environment)
        let result = try await collect(
            ShellCommand.scriptFromStdin, stdin: ShellCommand.script(line),
            activity: "starting the detached command", timeout: Self.helperTimeout, command: command)
        let start: DetachedStart
        switch result.exitStatus == 0 ? DetachedStartReply(stdout: result.stdoutText) : nil {
        case .started(let pid): start = DetachedStart(pid: pid, alreadyStarted: false)
        case .existing(let pid): start = DetachedStart(pid: pid, alreadyStarted: true)
        case .ended(let pid): start = DetachedStart(pid: pid, alreadyStarted: true, running: false)
        case .stale:
            throw remoteFailure(
                "the pid file \(pidFile) is empty: an earlier start under it died before recording the "
                    + "job's pid, so nothing was started (a job may be running without a known pid)",
                result, command)
        case nil:
            throw remoteFailure(
                "the detached command could not be started (exit status \(result.exitStatus))", result,
                command)
        }
        connection.logger.debug(
            start.alreadyStarted ? "detached command already started" : "started detached command",
            metadata: ["ssh.pid": "\(start.pid)", "ssh.running": "\(start.running)"])
        return start
    }

    /// Stops the job whose pid ``startDetachedOnce(_:environment:pidFile:logFile:)`` wrote to `pidFile`:
    /// TERM to its process group, up to `grace` seconds for it to end, then KILL to the group. The pid
    /// file is kept, so the job is not started again under it.
    ///
    /// With `marker`, the group is signalled only if one of its processes has that variable, with that
    /// value, in its environment (read from /proc: Linux, and processes of the session's user): a pid
    /// the system has given to another process since is left alone (``DetachedStop/foreign``).
    public func stopDetached(
        pidFile: String, grace: Duration = .seconds(5), marker: (name: String, value: String)? = nil
    ) async throws -> DetachedStop {
        let seconds = Int(grace.components.seconds)
        let line = try validated {
            try ShellCommand.stopDetached(
                pidFile: pidFile, grace: seconds, marker: marker.map { "\($0.name)=\($0.value)" })
        }
        let result = try await collect(
            line, activity: "stopping the detached command", timeout: Self.helperTimeout + grace,
            command: "stop \(pidFile)")
        let word = result.stdoutText.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        let stop: DetachedStop? =
            switch word.filter({ !$0.isWhitespace }) {
            case "absent": .notStarted
            case "gone": .alreadyEnded
            case "foreign": .foreign
            case "terminated": .terminated
            case "killed": .killed
            default: nil
            }
        guard result.exitStatus == 0, let stop else {
            throw remoteFailure(
                "the detached command could not be stopped (exit status \(result.exitStatus))", result,
                "stop \(pidFile)")
        }
        return stop
    }

    /// Sends `signal` (a name such as `TERM`, `KILL`, `HUP`, with or without `SIG`) to a process on the
    /// server with `kill`, as the session's user; with `processGroup`, to the whole process group led by
    /// `pid` (what ``startDetached(_:environment:logFile:)`` creates). Throws `.remoteCommandFailed` when
    /// `kill` fails, e.g. because the process no longer exists.
    public func signal(pid: Int32, _ signal: String = "TERM", processGroup: Bool = false) async throws {
        let line = try validated {
            try ShellCommand.kill(pid: pid, signal: signal, processGroup: processGroup)
        }
        let result = try await execute(line, timeout: Self.helperTimeout)
        guard result.exitStatus == 0 else {
            throw remoteFailure(
                "sending \(signal) to \(processGroup ? "process group" : "process") \(pid) failed "
                    + "(exit status \(result.exitStatus))", result, line)
        }
    }

    /// Ends the session: running and waiting operations stop with `.connectionClosed` (a running command
    /// is stopped as on a timeout), then the server is told goodbye and the connection is released.
    /// Calling it again does nothing.
    public func close() async {
        let connection = self.connection
        connection.closing.set()
        connection.interrupter.wake()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                connection.disconnect()
                continuation.resume()
            }
        }
    }

    // MARK: Internals

    /// Runs a complete command line and gathers its output into one result.
    private func collect(
        _ line: String, stdin: [UInt8] = [], activity: String, timeout: Duration?, command: String
    ) async throws -> SSHCommandResult {
        try await perform(activity: activity, timeout: timeout, command: command) {
            connection, operation in
            var stdout: [UInt8] = []
            var stderr: [UInt8] = []
            let exit = try connection.run(line, operation, stdin: stdin) { output in
                switch output {
                case .stdout(let bytes): stdout += bytes
                case .stderr(let bytes): stderr += bytes
                case .exit: break
                }
            }
            return SSHCommandResult(
                stdout: stdout, stderr: stderr, exitStatus: exit.status, exitSignal: exit.signal)
        }
    }

    /// Runs `body` on the session's queue; Task cancellation sets the operation's flag and wakes the queue.
    private func perform<T: Sendable>(
        activity: String, timeout: Duration?, command: String?,
        _ body: @escaping @Sendable (SessionConnection, OperationContext) throws -> T
    ) async throws -> T {
        let operation = OperationContext(
            activity: activity, deadline: timeout.map { .now + $0 }, closing: connection.closing)
        let connection = self.connection
        let interrupter = connection.interrupter
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                queue.async {
                    continuation.resume(
                        with: Result { try Self.naming(command) { try body(connection, operation) } })
                }
            }
        } onCancel: {
            operation.cancellation.set()
            interrupter.wake()
        }
    }

    /// Adds the caller's command to an ``SSHError`` thrown by `body`.
    private static func naming<T>(_ command: String?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var error as SSHError {
            if error.command == nil { error.command = command }
            throw error
        }
    }

    private func commandLine(_ command: String, _ environment: [String: String]) throws -> String {
        try validated { try ShellCommand.withEnvironment(command, environment) }
    }

    /// Turns a rejected argument into `.invalidArgument`, naming the problem but no value.
    private func validated(_ build: () throws -> String) throws -> String {
        do {
            return try build()
        } catch let error as ShellCommand.Invalid {
            let message =
                switch error {
                case .variableName(let name):
                    "environment variable name '\(name)' is not a shell identifier"
                case .nulByte(let what): "\(what) contains a NUL byte"
                case .signalName(let name): "'\(name)' is not a signal name"
                case .processID(let pid): "\(pid) is not a process id"
                }
            let configuration = connection.configuration
            throw SSHError(
                code: .invalidArgument, message: message, host: configuration.host, port: configuration.port
            )
        }
    }

    private func remoteFailure(_ message: String, _ result: SSHCommandResult, _ command: String)
        -> SSHError
    {
        let configuration = connection.configuration
        let stderr = result.stderrText.trimmingWhitespace
        return SSHError(
            code: .remoteCommandFailed, message: stderr.isEmpty ? message : "\(message): \(stderr)",
            host: configuration.host, port: configuration.port, command: command)
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
