import CRabbitMQ
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The dedicated thread that owns one librabbitmq connection and everything on it.
///
/// librabbitmq is single-threaded per connection, so every C call for this connection happens on this
/// thread: it takes commands from `inbox` (other threads wake it through `wakeup`), writes frames, reads
/// and dispatches incoming frames for all channels, services heartbeats, and reconnects after a loss.
/// Async callers wait on `Waiter`s that this thread resumes. State below the inbox is thread-confined,
/// which is why the class is `@unchecked Sendable`.
final class ConnectionLoop: @unchecked Sendable {
    /// Work for the I/O thread. `whenReady` commands wait (bounded) while the connection is down;
    /// the others run at once and handle every phase themselves.
    struct Command: Sendable {
        let whenReady: Bool
        let run: @Sendable (ConnectionLoop) -> Void
        let fail: @Sendable (AMQPError) -> Void
        /// An ack/nack/reject: it may wait for the thread's next wake-up instead of causing one.
        var isSettlement = false
    }

    private struct Inbox {
        var commands: [Command] = []
        var closed = false
        /// The I/O thread is (about to be) in `poll` and needs the pipe to wake up.
        var sleeping = false
        /// A wake-up byte was written since the thread went to sleep.
        var signaled = false
        /// Whether a settlement must wake the sleeping thread: true when a consumer's unsettled deliveries
        /// are close to its prefetch, so the broker may be waiting for acks before it delivers more.
        var urgentSettlements = true
    }

    enum Phase {
        case connecting
        /// Connected and all channels usable.
        case ready
        /// Connected again; re-declaring topology and re-opening channels.
        case restoring
        /// Disconnected; the next attempt is due at `at`.
        case waitingToReconnect(attempt: Int, at: ContinuousClock.Instant)
        case closed
    }

    let configuration: AMQPConfiguration
    let logger: Logger
    private let inbox = Mutex(Inbox())
    private let wakeup: Wakeup
    private let connectWaiter = Waiter<Void>()
    private static let counter = Atomic<Int>(0)
    /// Distinguishes this connection's generated consumer tags from other connections'.
    let connectionNumber: Int
    private let consumerCounter = Atomic<Int>(0)

    // Thread-confined state.
    private(set) var connection: amqp_connection_state_t?
    private(set) var phase: Phase = .connecting
    /// Incremented on every (re)connection, so callbacks from an older one are ignored.
    private(set) var generation = 0
    var channels: [UInt16: ChannelState] = [:]
    var topology = Topology()
    let encoder = CEncoder()
    private var parked: [(deadline: ContinuousClock.Instant, command: Command)] = []
    private var restoreSteps: [(@escaping () -> Void) -> Void] = []
    private var lastReceive = ContinuousClock.now
    private var lastReceiveAttempt = ContinuousClock.now
    /// Whether the next `readAvailableFrames` may call recv (see there).
    private var mayReceive = true
    /// Some channel has coalesced acks to write (see `settle`).
    var acksPending = false
    /// Set by `close()`: consumers then end normally instead of throwing.
    private var closedByUser = false
    private var channelMax: UInt16 = 2047
    /// The index in `configuration.servers` of the broker last connected to, tried first next time.
    private var preferredServer = 0
    static let controlChannel: UInt16 = 1

    private init(configuration: AMQPConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.connectionNumber = Self.counter.add(1, ordering: .relaxed).newValue
        var logger = logger
        logger[metadataKey: "amqp.connection"] = "\(connectionNumber)"
        self.logger = logger
        self.wakeup = try Wakeup()
    }

    /// Starts the I/O thread and returns once the first connection is established.
    static func start(configuration: AMQPConfiguration, logger: Logger) async throws -> ConnectionLoop {
        let loop = try ConnectionLoop(configuration: configuration, logger: logger)
        do {
            try await loop.connectWaiter.wait {
                let thread = Thread { loop.run() }
                thread.name = "AMQPClient connection \(loop.connectionNumber)"
                AMQPThreads.all.started()
                thread.start()
            }
        } catch {
            loop.requestShutdown()
            throw error
        }
        return loop
    }

    // MARK: - Inbox

    /// Queues work for the I/O thread; fails it at once when the connection is closed for good.
    func submit(_ command: Command) {
        do {
            try submitOrThrow(command)
        } catch {
            command.fail(AMQPError(.connectionClosed, reason: "the connection was closed"))
        }
    }

    /// Queues work nobody waits for; throws `.connectionClosed` when the connection is closed for good.
    func submitOrThrow(_ command: Command) throws {
        // The pipe is written only when the thread sleeps in poll, once per sleep: a busy thread picks
        // the command up on its next turn without a system call.
        let needsSignal = inbox.withLock { inbox -> Bool? in
            if inbox.closed { return nil }
            inbox.commands.append(command)
            guard inbox.sleeping, !inbox.signaled, !command.isSettlement || inbox.urgentSettlements else {
                return false
            }
            inbox.signaled = true
            return true
        }
        guard let needsSignal else {
            throw AMQPError(.connectionClosed, reason: "the connection was closed")
        }
        if needsSignal { wakeup.signal() }
    }

    /// Runs `body` on the I/O thread and returns what it passes to the waiter.
    func perform<Value: Sendable>(
        whenReady: Bool = true, _ body: @escaping @Sendable (ConnectionLoop, Waiter<Value>) -> Void
    ) async throws -> Value {
        let waiter = Waiter<Value>()
        return try await waiter.wait {
            submit(
                Command(
                    whenReady: whenReady,
                    run: { loop in
                        if !waiter.isFinished { body(loop, waiter) }
                    },
                    fail: { waiter.resume(throwing: $0) }))
        }
    }

    /// Asks the I/O thread to close the connection without waiting, e.g. from a deinit.
    func requestShutdown() {
        submit(Command(whenReady: false, run: { $0.close(byUser: false) }, fail: { _ in }))
    }

    private func takeCommands() -> [Command] {
        inbox.withLock { inbox in
            let commands = inbox.commands
            inbox.commands.removeAll(keepingCapacity: true)
            return commands
        }
    }

    private func processInbox() {
        for command in takeCommands() {
            dispatch(command)
        }
        flushAcks()
    }

    private func dispatch(_ command: Command) {
        if !command.whenReady {
            command.run(self)
            return
        }
        switch phase {
        case .ready:
            command.run(self)
        case .closed:
            command.fail(AMQPError(.connectionClosed, reason: "the connection was closed"))
        case .connecting, .restoring, .waitingToReconnect:
            parked.append((ContinuousClock.now + configuration.recovery.outageWait, command))
        }
    }

    private func expireParked() {
        guard let first = parked.first, first.deadline <= .now else { return }
        let now = ContinuousClock.now
        let expired = parked.filter { $0.deadline <= now }
        parked.removeAll { $0.deadline <= now }
        for entry in expired {
            entry.command.fail(
                AMQPError(
                    .connectionClosed,
                    reason: "the broker stayed unreachable longer than \(configuration.recovery.outageWait)"))
        }
    }

    // MARK: - The loop

    private func run() {
        do {
            connection = try establish()
            generation += 1
            lastReceive = .now
            phase = .ready
            connectWaiter.resume(returning: ())
        } catch {
            connectWaiter.resume(throwing: error)
            phase = .closed
        }
        while true {
            processInbox()
            if case .closed = phase { break }
            switch phase {
            case .ready, .restoring:
                let more = readAvailableFrames()
                guard connection != nil else { continue }
                checkHeartbeat()
                expireParked()
                if !more { mayReceive = waitForInput(socket: true, until: .now + pollInterval) }
            case .waitingToReconnect(let attempt, let at):
                expireParked()
                if at <= .now {
                    reconnect(attempt: attempt)
                } else {
                    let nextParked = parked.first?.deadline ?? at
                    waitForInput(socket: false, until: min(at, nextParked))
                }
            case .connecting, .closed:
                break
            }
        }
        shutdown()
        AMQPThreads.all.ended()
    }

    /// Short enough to send heartbeats on time (librabbitmq sends them while we read).
    private var pollInterval: Duration {
        let heartbeat = configuration.heartbeat
        return heartbeat > .zero ? min(heartbeat / 4, .seconds(1)) : .seconds(1)
    }

    /// Sleeps until a command arrives, the socket is readable or `deadline`; true when the socket should
    /// be read (readable, or the sleep timed out and heartbeats need servicing).
    @discardableResult
    private func waitForInput(socket: Bool, until deadline: ContinuousClock.Instant) -> Bool {
        // Acks need not wake the thread while no consumer is near its prefetch: the next deliveries
        // (or, for an emptied queue, a wake-up at most 100 ms away) carry them out.
        var urgent = false
        var settlementsExpected = false
        for channel in channels.values where channel.outstanding.count > 0 {
            settlementsExpected = true
            let prefetch = Int(channel.prefetch ?? 0)
            if prefetch == 0 || channel.outstanding.count + min(16, prefetch / 2) >= prefetch {
                urgent = true
            }
        }
        let canSleep = inbox.withLock { inbox -> Bool in
            guard inbox.commands.isEmpty else { return false }
            inbox.sleeping = true
            inbox.urgentSettlements = urgent
            return true
        }
        guard canSleep else { return false }
        let deadline = settlementsExpected ? min(deadline, .now + .milliseconds(100)) : deadline
        var fds = [pollfd(fd: wakeup.readFD, events: Int16(POLLIN), revents: 0)]
        if socket, let connection {
            fds.append(pollfd(fd: amqp_get_sockfd(connection), events: Int16(POLLIN), revents: 0))
        }
        let remaining = ContinuousClock.now.duration(to: deadline)
        let milliseconds = max(
            0,
            min(
                Int(remaining.components.seconds) * 1000
                    + Int(remaining.components.attoseconds / 1_000_000_000_000_000), 60_000))
        let ready = poll(&fds, nfds_t(fds.count), Int32(milliseconds))
        inbox.withLock { inbox in
            inbox.sleeping = false
            inbox.signaled = false
        }
        if fds[0].revents != 0 { wakeup.drain() }
        // librabbitmq consumes heartbeat frames internally, so incoming bytes are what prove the broker alive.
        let readable = fds.count > 1 && fds[1].revents != 0
        if readable { lastReceive = .now }
        return readable || ready == 0
    }

    /// Reads and handles the frames that are available without blocking; true when it stopped early
    /// with more probably waiting.
    ///
    /// A receive is attempted only when `mayReceive` (the last poll saw the socket readable or timed out,
    /// which is also when librabbitmq gets to send a due heartbeat); otherwise only frames already in
    /// librabbitmq's buffer are handled, sparing a system call that would find nothing.
    private func readAvailableFrames() -> Bool {
        var frame = amqp_frame_t()
        var timeout = timeval(tv_sec: 0, tv_usec: 0)
        if lastReceiveAttempt.duration(to: .now) > pollInterval { mayReceive = true }
        defer { mayReceive = false }
        var handled = 0
        defer { if handled > 0 { lastReceive = .now } }
        for _ in 0..<256 {
            guard let connection else { return false }
            if !mayReceive, amqp_data_in_buffer(connection) == 0, amqp_frames_enqueued(connection) == 0 {
                return false
            }
            if mayReceive {
                mayReceive = false
                lastReceiveAttempt = .now
            }
            let status = amqp_simple_wait_frame_noblock(connection, &frame, &timeout)
            if status == AMQP_STATUS_TIMEOUT.rawValue { return false }
            guard status == AMQP_STATUS_OK.rawValue else {
                connectionLost(AMQPError(.connectionClosed, reason: Self.statusText(status)))
                return false
            }
            handled += 1
            handle(frame)
            if let current = self.connection { amqp_maybe_release_buffers(current) }
        }
        return true
    }

    private func checkHeartbeat() {
        let heartbeat = configuration.heartbeat
        guard heartbeat > .zero, lastReceive.duration(to: .now) > heartbeat * 2 + .seconds(1) else {
            return
        }
        connectionLost(AMQPError(.timeout, reason: "the broker missed two heartbeats"))
    }

    // MARK: - Connecting

    /// Connects to the first broker that answers, starting with the one last connected to: a cluster
    /// node that went away leaves the others to reconnect to. Blocking, `connectTimeout` per broker.
    private func establish() throws -> amqp_connection_state_t {
        let servers = configuration.servers
        var failure: (any Error)?
        for offset in 0..<servers.count {
            let index = (preferredServer + offset) % servers.count
            do {
                let state = try establish(servers[index])
                preferredServer = index
                return state
            } catch {
                failure = error
            }
        }
        throw failure ?? AMQPError(.connectionFailed, reason: "no broker to connect to")
    }

    /// Opens the TCP connection to `server` and logs in.
    private func establish(_ server: AMQPHost) throws -> amqp_connection_state_t {
        guard let state = amqp_new_connection() else {
            throw AMQPError(.connectionFailed, reason: "out of memory")
        }
        let socket: OpaquePointer
        do {
            socket = try Self.socket(for: state, tls: configuration.tls)
        } catch {
            amqp_destroy_connection(state)
            throw error
        }
        var timeout = Self.cTimeval(configuration.connectTimeout)
        let status = amqp_socket_open_noblock(socket, server.host, Int32(server.port), &timeout)
        guard status == AMQP_STATUS_OK.rawValue else {
            amqp_destroy_connection(state)
            throw AMQPError(
                .connectionFailed, operation: "connect to \(server.host):\(server.port)",
                reason: Self.statusText(status))
        }
        amqp_set_handshake_timeout(state, &timeout)
        var properties: AMQPTable = ["product": "Keel AMQPClient"]
        if let name = configuration.connectionName { properties["connection_name"] = .string(name) }
        var table = encoder.table(properties)
        let heartbeatSeconds = Int32(configuration.heartbeat.components.seconds)
        let reply = keel_amqp_login_plain_with_properties(
            state, configuration.vhost, Int32(channelMax), Int32(configuration.frameMax),
            heartbeatSeconds, &table,
            configuration.user, configuration.password)
        encoder.reset()
        if let error = Self.replyError(reply, operation: "login to vhost '\(configuration.vhost)'") {
            amqp_destroy_connection(state)
            throw AMQPError(.connectionFailed, operation: error.operation, reason: error.reason)
        }
        let negotiated = amqp_get_channel_max(state)
        if negotiated > 0 { channelMax = UInt16(clamping: negotiated) }
        logger.debug(
            "AMQP connection established",
            metadata: [
                "amqp.server": "\(server.host):\(server.port)",
                "amqp.heartbeat": "\(amqp_get_heartbeat(state))",
            ])
        return state
    }

    /// A TCP socket for `state`, or with `tls` a TLS socket set up to verify the broker (and to present
    /// the client's certificate). Freed with the connection.
    private static func socket(for state: amqp_connection_state_t, tls: AMQPTLS?) throws -> OpaquePointer {
        guard let tls else {
            guard let socket = amqp_tcp_socket_new(state) else {
                throw AMQPError(.connectionFailed, reason: "cannot create a TCP socket")
            }
            return socket
        }
        guard let socket = amqp_ssl_socket_new(state) else {
            throw AMQPError(.connectionFailed, reason: "cannot create a TLS socket")
        }
        if let ca = tls.caCertificatePath {
            let status = amqp_ssl_socket_set_cacert(socket, ca)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(
                    .invalidConfiguration, operation: "read the CA certificate file \(ca)",
                    reason: statusText(status))
            }
        }
        if let certificate = tls.certificatePath {
            let key = tls.keyPath ?? certificate
            let status = amqp_ssl_socket_set_key(socket, certificate, key)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw AMQPError(
                    .invalidConfiguration,
                    operation: "read the client certificate \(certificate) and key \(key)",
                    reason: statusText(status))
            }
        }
        amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
        amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
        return socket
    }

    /// Handles a dead connection: fails what was in flight and schedules recovery (or closes).
    func connectionLost(_ error: AMQPError) {
        guard let lost = connection else { return }
        connection = nil
        amqp_destroy_connection(lost)
        encoder.reset()
        restoreSteps.removeAll()
        let inFlight = AMQPError(.connectionClosed, reason: error.reason ?? "the connection was lost")
        for channel in channels.values {
            failPending(channel, inFlight)
            if channel.id == Self.controlChannel {
                channels[channel.id] = nil
            } else if case .closed = channel.status {
                continue
            } else if !channel.wasOpened {
                // The user's channel.open was in flight; that call fails and the number is free again.
                channels[channel.id] = nil
            } else {
                channel.status = .awaitingRecovery
            }
        }
        guard configuration.recovery.isEnabled, !closedByUser else {
            logger.warning("AMQP connection lost", metadata: ["amqp.error": "\(error)"])
            finishClosing(error: inFlight)
            return
        }
        let delay = configuration.recovery.delay(attempt: 0)
        logger.warning(
            "AMQP connection lost; reconnecting",
            metadata: ["amqp.error": "\(error)", "amqp.retry_in": "\(delay)"])
        phase = .waitingToReconnect(attempt: 0, at: .now + delay)
    }

    /// Fails a channel's in-flight and queued RPCs, its unconfirmed publishes and its partial message.
    func failPending(_ channel: ChannelState, _ error: AMQPError) {
        let rpcs = channel.rpcs
        channel.rpcs.removeAll()
        channel.rpcInFlight = false
        for rpc in rpcs { rpc.complete(.failure(error)) }
        channel.unconfirmed.failAll(error)
        channel.content = nil
        channel.outstanding = OutstandingDeliveries()
        channel.pendingAck = nil
    }

    private func reconnect(attempt: Int) {
        do {
            connection = try establish()
        } catch {
            let delay = configuration.recovery.delay(attempt: attempt + 1)
            logger.info(
                "AMQP reconnection failed",
                metadata: [
                    "amqp.attempt": "\(attempt + 1)", "amqp.error": "\(error)", "amqp.retry_in": "\(delay)",
                ])
            phase = .waitingToReconnect(attempt: attempt + 1, at: .now + delay)
            return
        }
        generation += 1
        lastReceive = .now
        mayReceive = true
        phase = .restoring
        logger.info(
            "AMQP reconnected; restoring topology and channels",
            metadata: ["amqp.attempt": "\(attempt + 1)"])
        restoreSteps = makeRestoreSteps()
        advanceRestore()
    }

    /// Runs the next recovery step; each step calls `done` when its replies arrived.
    private func advanceRestore() {
        guard case .restoring = phase else { return }
        guard !restoreSteps.isEmpty else {
            finishRestore()
            return
        }
        let step = restoreSteps.removeFirst()
        let generation = self.generation
        step { [unowned self] in
            if self.generation == generation { self.advanceRestore() }
        }
    }

    private func finishRestore() {
        phase = .ready
        logger.info("AMQP connection recovered", metadata: ["amqp.channels": "\(channels.count)"])
        let waiting = parked
        parked.removeAll()
        for entry in waiting { dispatch(entry.command) }
    }

    /// Re-declares the recorded topology on the control channel, then re-opens every channel with its
    /// prefetch, confirm mode and consumers.
    private func makeRestoreSteps() -> [(@escaping () -> Void) -> Void] {
        var steps: [(@escaping () -> Void) -> Void] = []
        for record in topology.records {
            steps.append { [unowned self] done in
                self.withControlChannel { channel in
                    guard let channel else { return done() }
                    self.enqueue(
                        self.declareRPC(
                            record, channel: channel,
                            completion: { result in
                                if case .failure(let error) = result {
                                    self.logger.warning(
                                        "AMQP recovery could not re-declare",
                                        metadata: ["amqp.error": "\(error)"])
                                }
                                done()
                            }), on: channel)
                }
            }
        }
        for channel in channels.values.sorted(by: { $0.id < $1.id }) {
            guard case .awaitingRecovery = channel.status else { continue }
            steps.append { [unowned self] done in
                self.restore(channel, done: done)
            }
        }
        return steps
    }

    /// Opens (or re-opens) the control channel used for recovery's declarations.
    private func withControlChannel(_ body: @escaping (ChannelState?) -> Void) {
        if let control = channels[Self.controlChannel], control.isOpen { return body(control) }
        let control = ChannelState(id: Self.controlChannel)
        channels[Self.controlChannel] = control
        enqueue(
            openRPC(control) { result in
                if case .failure(let error) = result {
                    self.logger.warning(
                        "AMQP recovery could not open a channel", metadata: ["amqp.error": "\(error)"])
                    body(nil)
                } else {
                    body(control)
                }
            }, on: control)
    }

    private func restore(_ channel: ChannelState, done: @escaping () -> Void) {
        channel.status = .opening
        channel.nextPublishSequence = 1
        var finished = false
        let done = {
            if !finished {
                finished = true
                done()
            }
        }
        let fail: (AMQPError) -> Void = { [unowned self] error in
            self.logger.warning(
                "AMQP recovery could not restore a channel",
                metadata: ["amqp.channel": "\(channel.id)", "amqp.error": "\(error)"])
            if case .channelClosed = error.code {
                channel.status = .closed(error)
                for consumer in channel.consumers.values { consumer.continuation.finish(throwing: error) }
                channel.consumers.removeAll()
            }
            done()
        }
        enqueue(
            openRPC(channel) { [unowned self] result in
                if case .failure(let error) = result { return fail(error) }
                var remaining: [ChannelRPC] = []
                if let prefetch = channel.prefetch {
                    remaining.append(
                        self.qosRPC(channel, prefetch) { if case .failure(let e) = $0 { fail(e) } })
                }
                if channel.confirmMode {
                    remaining.append(
                        self.confirmSelectRPC(channel) { if case .failure(let e) = $0 { fail(e) } })
                }
                for (tag, consumer) in channel.consumers.sorted(by: { $0.key < $1.key }) {
                    remaining.append(
                        self.consumeRPC(channel, queue: consumer.queue, tag: tag) {
                            if case .failure(let e) = $0 { fail(e) }
                        })
                }
                // Finished once the last of them is answered.
                guard !remaining.isEmpty else { return done() }
                let last = remaining.count - 1
                for (index, rpc) in remaining.enumerated() {
                    if index == last {
                        let original = rpc.complete
                        self.enqueue(
                            ChannelRPC(
                                operation: rpc.operation, replies: rpc.replies, isAbandoned: rpc.isAbandoned,
                                send: rpc.send,
                                complete: { outcome in
                                    original(outcome)
                                    if case .failure = outcome { return }
                                    done()
                                }), on: channel)
                    } else {
                        self.enqueue(rpc, on: channel)
                    }
                }
            }, on: channel)
    }

    // MARK: - Closing

    /// Closes the connection politely (connection.close, bounded wait) and fails or ends everything on it.
    func close(byUser: Bool) {
        if case .closed = phase { return }
        closedByUser = byUser
        flushAcks()
        if let connection {
            var timeout = Self.cTimeval(.seconds(5))
            amqp_set_rpc_timeout(connection, &timeout)
            _ = amqp_connection_close(connection, Int32(AMQP_REPLY_SUCCESS))
            amqp_destroy_connection(connection)
            self.connection = nil
        }
        finishClosing(error: AMQPError(.connectionClosed, reason: "the connection was closed"))
        logger.debug("AMQP connection closed")
    }

    private func finishClosing(error: AMQPError) {
        phase = .closed
        for channel in channels.values {
            failPending(channel, error)
            for consumer in channel.consumers.values {
                if !closedByUser {
                    consumer.continuation.finish(throwing: error)
                } else {
                    consumer.continuation.finish()
                }
            }
            channel.consumers.removeAll()
            channel.status = .closed(error)
        }
        let waiting = parked
        parked.removeAll()
        for entry in waiting { entry.command.fail(error) }
    }

    /// After the loop ends: refuses new commands and fails the ones that raced with the close.
    private func shutdown() {
        let remaining = inbox.withLock { inbox in
            inbox.closed = true
            let commands = inbox.commands
            inbox.commands.removeAll()
            return commands
        }
        for command in remaining {
            if command.whenReady {
                command.fail(AMQPError(.connectionClosed, reason: "the connection was closed"))
            } else {
                command.run(self)
            }
        }
        if let connection {
            amqp_destroy_connection(connection)
            self.connection = nil
        }
    }

    // MARK: - Helpers

    /// Sends a method on a channel; false (after handling the loss) when the connection failed.
    @discardableResult
    func send<Method>(_ id: amqp_method_number_t, _ method: Method, on channel: UInt16) -> Int32 {
        guard let connection else { return AMQP_STATUS_CONNECTION_CLOSED.rawValue }
        var method = method
        return withUnsafeMutablePointer(to: &method) { amqp_send_method(connection, channel, id, $0) }
    }

    /// Allocates the lowest free channel number above the control channel.
    func allocateChannelID() -> UInt16? {
        var id: UInt16 = Self.controlChannel + 1
        while id <= channelMax {
            if channels[id] == nil { return id }
            id += 1
        }
        return nil
    }

    func nextConsumerTag() -> String {
        "keel-\(connectionNumber)-\(consumerCounter.add(1, ordering: .relaxed).newValue)"
    }

    static func statusText(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }

    static func cTimeval(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        return timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }

    /// The error in an `amqp_rpc_reply_t`, nil for a normal reply.
    static func replyError(_ reply: amqp_rpc_reply_t, operation: String) -> AMQPError? {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return nil
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return AMQPError(
                .connectionFailed, operation: operation, reason: statusText(reply.library_error))
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if reply.reply.id == MethodID.connectionClose, let decoded = reply.reply.decoded {
                let close = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return AMQPError(
                    .connectionFailed, operation: operation,
                    reason: "\(close.reply_code) \(CDecoder.string(close.reply_text))")
            }
            return AMQPError(.connectionFailed, operation: operation, reason: "server error")
        default:
            return AMQPError(.protocolError, operation: operation, reason: "no reply")
        }
    }
}
