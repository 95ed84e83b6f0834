import CLibSSH2

/// How a remote command ended.
struct RemoteExit: Sendable {
    var status: Int32
    var signal: String?
}

/// Running one command on its own channel of the session: exec, `stdin` then EOF on its stdin, read
/// stdout and stderr until EOF, collect the exit status. When the command has to stop early (timeout,
/// cancellation, close) the channel is closed and the command's processes are killed, see ``RemoteKill``.
extension SessionConnection {
    /// `stdin` is written whole before anything is read: keep it small (a script), as the command's
    /// output waits meanwhile.
    func run(
        _ commandLine: String, _ operation: OperationContext, stdin: [UInt8] = [],
        killOnFailure: Bool = true, output: (SSHOutput) -> Void
    ) throws -> RemoteExit {
        try checkInterruption(operation)
        if let unusableReason { throw failure(.connectionClosed, unusableReason) }
        guard let session else { throw failure(.connectionClosed, "the session is closed") }

        let runID = RemoteKill.newRunID()
        let tagged = RemoteKill.tag(commandLine, runID: runID)
        let channel = try openChannel(session, operation)
        do {
            let rc = try retry(operation) {
                libssh2_channel_process_startup(channel, "exec", 4, tagged, UInt32(tagged.utf8.count))
            }
            guard rc == 0 else {
                throw failure(
                    code(for: rc, connected: true), "the server refused to run the command", libssh2: rc)
            }
            try write(stdin, to: channel, operation)
            // Nothing else is written to the command's stdin: it reads EOF next, as with `ssh -n`.
            let eof = try retry(operation) { libssh2_channel_send_eof(channel) }
            guard eof == 0 else {
                throw failure(
                    code(for: eof, connected: true), "closing the command's stdin failed", libssh2: eof)
            }
            try pump(channel, operation, output: output)
            let closed = try retry(operation) { libssh2_channel_close(channel) }
            let waited =
                closed == 0 ? try retry(operation) { libssh2_channel_wait_closed(channel) } : closed
            guard waited == 0 else {
                throw failure(
                    code(for: waited, connected: true), "closing the channel failed", libssh2: waited)
            }
            let exit = exitStatus(session, channel)
            freeChannel(channel)
            return exit
        } catch {
            // The exec request may have reached sshd even when its reply did not reach us, so the kill is
            // always tried. Killing first lets sshd finish the channel, so closing it need not wait.
            if killOnFailure { kill(runID: runID) }
            abandon(channel)
            throw error
        }
    }

    /// Writes all of `bytes` to the channel's stdin.
    private func write(_ bytes: [UInt8], to channel: OpaquePointer, _ operation: OperationContext) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBufferPointer { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return (base + offset).withMemoryRebound(to: CChar.self, capacity: buffer.count - offset) {
                    libssh2_channel_write_ex(channel, 0, $0, buffer.count - offset)
                }
            }
            if written > 0 {
                offset += written
            } else if written == Int(LIBSSH2_ERROR_EAGAIN) {
                try waitForSocket(operation)
            } else {
                let rc = Int32(clamping: written)
                throw failure(
                    code(for: rc, connected: true), "writing the command's stdin failed", libssh2: rc)
            }
        }
    }

    /// Closes a channel, waiting at most a second for sshd's side of the close, and frees it.
    private func abandon(_ channel: OpaquePointer) {
        let closing = OperationContext.cleanup("closing the channel", within: .seconds(1))
        _ = try? retry(closing) { libssh2_channel_close(channel) }
        freeChannel(channel)
    }

    /// Runs ``RemoteKill/command(runID:)`` on a new channel, bounded to ten seconds, ignoring failures.
    private func kill(runID: String) {
        guard unusableReason == nil else { return }
        let operation = OperationContext.cleanup("killing the command", within: .seconds(10))
        do {
            let exit = try run(RemoteKill.command(runID: runID), operation, killOnFailure: false) { _ in }
            logger.debug("killed the remote command", metadata: ["ssh.kill.status": "\(exit.status)"])
        } catch {
            logger.debug("the remote command could not be killed", metadata: ["ssh.error": "\(error)"])
        }
    }

    /// libssh2's default window (LIBSSH2_CHANNEL_WINDOW_DEFAULT, a macro Swift does not import).
    private static var channelWindow: UInt32 { 2 * 1024 * 1024 }

    private func openChannel(_ session: OpaquePointer, _ operation: OperationContext) throws
        -> OpaquePointer
    {
        while true {
            if let channel = libssh2_channel_open_ex(
                session, "session", 7, Self.channelWindow, UInt32(LIBSSH2_CHANNEL_PACKET_DEFAULT),
                nil, 0)
            {
                return channel
            }
            let rc = libssh2_session_last_errno(session)
            guard rc == LIBSSH2_ERROR_EAGAIN else {
                throw failure(
                    rc == LIBSSH2_ERROR_CHANNEL_FAILURE ? .channelFailed : code(for: rc, connected: true),
                    "the server did not open a channel", libssh2: rc)
            }
            do {
                try waitForSocket(operation)
            } catch {
                // libssh2 keeps a half-done channel open in the session; continuing would mix it up.
                unusableReason = "a channel open was interrupted; the session cannot be used any more"
                throw error
            }
        }
    }

    /// Delivers stdout and stderr chunks in arrival order until the server's EOF.
    private func pump(
        _ channel: OpaquePointer, _ operation: OperationContext, output: (SSHOutput) -> Void
    ) throws {
        while true {
            var progressed = false
            for stream: Int32 in [0, SSH_EXTENDED_DATA_STDERR] {
                let count = libssh2_channel_read_ex(channel, stream, buffer, Self.bufferSize)
                if count > 0 {
                    let bytes = [UInt8](UnsafeRawBufferPointer(start: buffer, count: count))
                    output(stream == 0 ? .stdout(bytes) : .stderr(bytes))
                    progressed = true
                } else if count < 0 && count != Int(LIBSSH2_ERROR_EAGAIN) {
                    let rc = Int32(count)
                    throw failure(
                        code(for: rc, connected: true), "reading the command's output failed", libssh2: rc)
                }
            }
            if progressed {
                // A command that floods output must still honour its timeout and cancellation.
                try checkInterruption(operation)
                continue
            }
            // EOF counts only once libssh2 holds no unread data for the channel.
            if libssh2_channel_eof(channel) == 1 { return }
            // Reading one stream may have queued packets of the other after the socket went quiet.
            if libssh2_poll_channel_read(channel, 1) > 0 { continue }
            try waitForSocket(operation)
        }
    }

    private func exitStatus(_ session: OpaquePointer, _ channel: OpaquePointer) -> RemoteExit {
        var signal: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        _ = libssh2_channel_get_exit_signal(channel, &signal, &signalLength, nil, nil, nil, nil)
        if let signal {
            let name = String(
                decoding: UnsafeRawBufferPointer(start: signal, count: signalLength), as: UTF8.self)
            libssh2_free(session, signal)
            return RemoteExit(status: Self.shellStatus(forSignal: name), signal: name)
        }
        return RemoteExit(status: libssh2_channel_get_exit_status(channel), signal: nil)
    }

    /// 128 + the signal's number, for the signals whose numbers POSIX fixes; -1 for the others.
    static func shellStatus(forSignal name: String) -> Int32 {
        let numbers: [String: Int32] = [
            "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "FPE": 8, "KILL": 9,
            "SEGV": 11,
            "PIPE": 13, "ALRM": 14, "TERM": 15,
        ]
        return numbers[name].map { 128 + $0 } ?? -1
    }

    private func freeChannel(_ channel: OpaquePointer) {
        let operation = OperationContext.cleanup("freeing the channel", within: .seconds(1))
        if (try? retry(operation) { libssh2_channel_free(channel) }) != 0 {
            logger.debug("a channel could not be freed; the session frees it when it closes")
        }
    }
}
