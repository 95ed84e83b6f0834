import CLibSSH2
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One TCP socket and one libssh2 session: the state behind an ``SSHSession``.
///
/// Every method runs on the owning session's serial queue, one at a time; that confinement is what makes
/// the `@unchecked Sendable` true (the only members touched from other threads are the `Sendable` lets
/// `closing` and `interrupter`). libssh2 runs in non-blocking mode: a call that would block returns
/// EAGAIN and the queue waits in `poll` on the socket and the interrupter, so a deadline, a cancelled Task
/// or ``SSHSession/close()`` ends any wait at once.
final class SessionConnection: @unchecked Sendable {
    let configuration: SSHConfiguration
    let logger: Logger
    let interrupter: Interrupter
    /// Set when the session is being closed; every operation then stops with `.connectionClosed`.
    let closing = InterruptFlag()

    private var socket: Int32 = -1
    /// Whether `connect` completed, i.e. the session was handed to a caller who should close it.
    private var established = false
    private(set) var session: OpaquePointer?
    /// Why the session cannot be used any more, after an operation was interrupted half-way through one
    /// of libssh2's multi-step exchanges.
    var unusableReason: String?
    /// The read buffer for channel output.
    let buffer: UnsafeMutablePointer<CChar>
    static let bufferSize = 64 * 1024

    /// libssh2's global initialisation, done once per process before the first session.
    private static let libraryInitialization: Int32 = libssh2_init(0)

    init(configuration: SSHConfiguration, logger: Logger, interrupter: Interrupter) {
        self.configuration = configuration
        self.logger = logger
        self.interrupter = interrupter
        buffer = .allocate(capacity: Self.bufferSize)
    }

    deinit {
        if established && session != nil {
            logger.warning("SSH session released without close(); the server was not told goodbye")
        }
        release()
        buffer.deallocate()
    }

    // MARK: Connecting

    /// TCP connect, key exchange, host key verification, then public-key authentication.
    func connect(_ operation: OperationContext) throws {
        guard Self.libraryInitialization == 0 else {
            throw failure(.connectionFailed, "libssh2 could not be initialised")
        }
        socket = try openSocket(operation)
        guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else {
            throw failure(.connectionFailed, "libssh2 could not create a session")
        }
        self.session = session
        libssh2_session_set_blocking(session, 0)

        let (check, knownKinds) = try prepareHostKeyCheck(session)
        _ = libssh2_session_method_pref(
            session, LIBSSH2_METHOD_HOSTKEY, HostKeyKind.algorithmPreference(preferring: knownKinds))

        let socket = self.socket
        let handshake = try retry(operation) { libssh2_session_handshake(session, socket) }
        guard handshake == 0 else {
            throw failure(
                code(for: handshake, connected: false), "the SSH handshake failed", libssh2: handshake)
        }
        try verifyHostKey(session, against: check)
        try authenticate(session, operation)
        established = true
        logger.debug("SSH session established")
    }

    /// A connected TCP socket to the configured host, trying each of its addresses in turn.
    private func openSocket(_ operation: OperationContext) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var addresses: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(configuration.host, String(configuration.port), &hints, &addresses)
        guard resolved == 0, let first = addresses else {
            throw failure(
                .connectionFailed,
                "cannot resolve \(configuration.host): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(first) }

        var lastError = "no usable address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let address = next {
            next = address.pointee.ai_next
            let descriptor = posixSocket(
                address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            guard descriptor >= 0 else {
                lastError = Self.errnoText()
                continue
            }
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            _ = setsockopt(
                descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if posixConnect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 {
                return descriptor
            }
            guard errno == EINPROGRESS else {
                lastError = Self.errnoText()
                posixClose(descriptor)
                continue
            }
            do {
                while try waitFor(descriptor, events: Int16(POLLOUT), operation) == 0 {}
            } catch {
                posixClose(descriptor)
                throw error
            }
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &socketError, &length)
            if socketError == 0 { return descriptor }
            lastError = String(cString: strerror(socketError))
            posixClose(descriptor)
        }
        throw failure(
            .connectionFailed,
            "cannot connect to \(configuration.host):\(configuration.port): \(lastError)")
    }

    // MARK: Host key

    private enum HostKeyCheck {
        case knownHosts(KnownHosts, path: String)
        case pinned(PinnedHostKey)
    }

    /// The name a known_hosts file uses for the configured host and port.
    private var knownHostsName: String {
        configuration.port == 22 ? configuration.host : "[\(configuration.host)]:\(configuration.port)"
    }

    /// Loads the policy before the handshake, so the handshake can ask for the key kinds it knows.
    private func prepareHostKeyCheck(_ session: OpaquePointer) throws -> (HostKeyCheck, [HostKeyKind]) {
        switch configuration.hostKey {
        case .knownHosts(let path):
            guard let file = KnownHosts(session: session, path: path) else {
                let rc = libssh2_session_last_errno(session)
                throw failure(
                    .hostKeyUnknown, "the known_hosts file \(path) cannot be read; refusing to connect",
                    libssh2: rc)
            }
            return (
                .knownHosts(file, path: path),
                file.kinds(host: configuration.host, port: configuration.port)
            )
        case .pinned(let text):
            guard let pin = PinnedHostKey(text) else {
                throw failure(
                    .invalidArgument, "the pinned host key is neither 'SHA256:<base64>' nor '<type> <base64>'"
                )
            }
            return (.pinned(pin), pin.preferredKind.map { [$0] } ?? [])
        }
    }

    /// Refuses the server unless the policy knows its key; runs before any authentication.
    private func verifyHostKey(_ session: OpaquePointer, against check: HostKeyCheck) throws {
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(session, &length, &type),
            let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256)
        else {
            throw failure(.protocolError, "the server presented no host key")
        }
        let key = ServerHostKey(
            kind: HostKeyKind(libssh2Type: type),
            blob: [UInt8](UnsafeRawBufferPointer(start: raw, count: length)),
            sha256: [UInt8](UnsafeRawBufferPointer(start: hash, count: 32)))
        let presented = "\(key.kind?.name ?? "unsupported") host key \(key.fingerprint)"

        switch check {
        case .knownHosts(let file, let path):
            switch file.check(host: configuration.host, port: configuration.port, key: key) {
            case .match:
                break
            case .mismatch:
                throw failure(
                    .hostKeyMismatch,
                    "the server's \(presented) differs from the key \(path) records for \(knownHostsName); "
                        + "refusing to authenticate")
            case .notFound:
                throw failure(
                    .hostKeyUnknown,
                    "\(path) has no \(key.kind?.name ?? "such") key for \(knownHostsName) (server presented "
                        + "\(presented)); refusing to authenticate")
            case .failure:
                throw failure(
                    .hostKeyUnknown, "the \(presented) could not be checked against \(path)",
                    libssh2: libssh2_session_last_errno(session))
            }
        case .pinned(let pin):
            guard pin.matches(key) else {
                throw failure(
                    .hostKeyMismatch,
                    "the server's \(presented) is not the pinned key; refusing to authenticate")
            }
        }
        logger.debug("host key verified", metadata: ["ssh.hostkey": "\(key.fingerprint)"])
    }

    // MARK: Authentication

    private func authenticate(_ session: OpaquePointer, _ operation: OperationContext) throws {
        let user = configuration.user
        let userLength = user.utf8.count
        let rc: Int32
        let keyDescription: String
        switch configuration.identity {
        case .privateKeyFile(let path, let passphrase):
            keyDescription = "the private key file \(path)"
            rc = try retry(operation) {
                libssh2_userauth_publickey_fromfile_ex(
                    session, user, UInt32(userLength), nil, path, passphrase)
            }
        case .privateKey(let text, let passphrase):
            keyDescription = "the private key given in memory"
            let keyLength = text.utf8.count
            rc = try retry(operation) {
                libssh2_userauth_publickey_frommemory(
                    session, user, userLength, nil, 0, text, keyLength, passphrase)
            }
        }
        switch rc {
        case 0 where libssh2_userauth_authenticated(session) != 0:
            return
        case 0, LIBSSH2_ERROR_AUTHENTICATION_FAILED, LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
            throw failure(
                .authenticationFailed, "the server did not accept \(keyDescription) for user \(user)",
                libssh2: rc)
        case LIBSSH2_ERROR_FILE, LIBSSH2_ERROR_KEYFILE_AUTH_FAILED, LIBSSH2_ERROR_METHOD_NOT_SUPPORTED:
            throw failure(
                .identityUnusable,
                "\(keyDescription) cannot be used (unreadable, wrong passphrase or unsupported format)",
                libssh2: rc)
        default:
            throw failure(
                code(for: rc, connected: false), "public-key authentication failed", libssh2: rc)
        }
    }

    // MARK: Waiting

    /// Calls `body` until it stops answering EAGAIN, waiting for the socket in between.
    func retry(_ operation: OperationContext, _ body: () -> Int32) throws -> Int32 {
        while true {
            let rc = body()
            guard rc == LIBSSH2_ERROR_EAGAIN else { return rc }
            try waitForSocket(operation)
        }
    }

    /// Waits until the socket is ready in the direction libssh2 blocked on, or the wait is interrupted
    /// (then throws: `CancellationError`, `.connectionClosed` or `.timeout`).
    func waitForSocket(_ operation: OperationContext) throws {
        var events: Int16 = 0
        if let session {
            let directions = libssh2_session_block_directions(session)
            if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
            if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        }
        if events == 0 { events = Int16(POLLIN) }
        _ = try waitFor(socket, events: events, operation)
    }

    /// One `poll` on `descriptor` and the interrupter; returns the descriptor's ready events (0 when the
    /// poll timed out or was woken), or throws when the operation has to stop.
    private func waitFor(_ descriptor: Int32, events: Int16, _ operation: OperationContext) throws
        -> Int16
    {
        try checkInterruption(operation)
        var descriptors = [
            pollfd(fd: descriptor, events: events, revents: 0),
            pollfd(fd: interrupter.readDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&descriptors, 2, operation.pollTimeoutMilliseconds)
        if ready < 0 && errno != EINTR {
            throw failure(.connectionClosed, "waiting for the socket failed: \(Self.errnoText())")
        }
        if descriptors[1].revents != 0 { interrupter.drain() }
        try checkInterruption(operation)
        return ready > 0 ? descriptors[0].revents : 0
    }

    func checkInterruption(_ operation: OperationContext) throws {
        switch operation.interruption {
        case nil: return
        case .cancelled: throw CancellationError()
        case .sessionClosing:
            throw failure(.connectionClosed, "the session was closed while \(operation.activity)")
        case .deadlineExpired: throw failure(.timeout, "timed out \(operation.activity)")
        }
    }

    // MARK: Closing

    /// Says goodbye to the server (bounded to two seconds), then frees the session and the socket.
    func disconnect() {
        if let session {
            let operation = OperationContext.cleanup("disconnecting", within: .seconds(2))
            let rc = try? retry(operation) {
                libssh2_session_disconnect_ex(
                    session, SSH_DISCONNECT_BY_APPLICATION, "closed by client", "")
            }
            if rc != 0 { logger.debug("the SSH disconnect message could not be sent") }
        }
        release()
        logger.debug("SSH session closed")
    }

    /// Frees libssh2's session without talking to the server: the socket is shut down first, so any
    /// I/O libssh2 still attempts fails at once, and closed only afterwards, so its number cannot be
    /// reused by someone else while libssh2 might still touch it.
    private func release() {
        if socket >= 0 { _ = shutdown(socket, Int32(SHUT_RDWR)) }
        if let session {
            var attempts = 0
            while libssh2_session_free(session) == LIBSSH2_ERROR_EAGAIN && attempts < 100 {
                attempts += 1
            }
            self.session = nil
        }
        if socket >= 0 {
            posixClose(socket)
            socket = -1
        }
    }

    // MARK: Errors

    /// An ``SSHError`` for this session, with libssh2's last error text when `libssh2` is its code.
    func failure(_ code: SSHError.Code, _ message: String, libssh2 rc: Int32? = nil) -> SSHError {
        var libssh2Message: String?
        if rc != nil, let session {
            var text: UnsafeMutablePointer<CChar>?
            var length: Int32 = 0
            _ = libssh2_session_last_error(session, &text, &length, 0)
            if let text { libssh2Message = String(cString: text) }
        }
        return SSHError(
            code: code, message: message, host: configuration.host, port: configuration.port,
            libssh2Message: libssh2Message, libssh2Code: rc)
    }

    /// The error code for a libssh2 failure code.
    func code(for rc: Int32, connected: Bool) -> SSHError.Code {
        switch rc {
        case LIBSSH2_ERROR_SOCKET_NONE, LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_BANNER_SEND,
            LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT,
            LIBSSH2_ERROR_BAD_SOCKET, LIBSSH2_ERROR_SOCKET_TIMEOUT:
            connected ? .connectionClosed : .connectionFailed
        case LIBSSH2_ERROR_TIMEOUT:
            .timeout
        case LIBSSH2_ERROR_CHANNEL_FAILURE, LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED,
            LIBSSH2_ERROR_CHANNEL_UNKNOWN,
            LIBSSH2_ERROR_CHANNEL_CLOSED, LIBSSH2_ERROR_CHANNEL_EOF_SENT,
            LIBSSH2_ERROR_CHANNEL_OUTOFORDER,
            LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED, LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED:
            .channelFailed
        default:
            .protocolError
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

// The class has members named `socket` and `connect`; these reach the system calls of the same names.
#if canImport(Glibc)
    private func posixSocket(_ domain: Int32, _ type: Int32, _ proto: Int32) -> Int32 {
        Glibc.socket(domain, type, proto)
    }
    private func posixConnect(
        _ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t
    ) -> Int32 {
        Glibc.connect(descriptor, address, length)
    }
    private func posixClose(_ descriptor: Int32) { _ = Glibc.close(descriptor) }
#elseif canImport(Darwin)
    private func posixSocket(_ domain: Int32, _ type: Int32, _ proto: Int32) -> Int32 {
        Darwin.socket(domain, type, proto)
    }
    private func posixConnect(
        _ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t
    ) -> Int32 {
        Darwin.connect(descriptor, address, length)
    }
    private func posixClose(_ descriptor: Int32) { _ = Darwin.close(descriptor) }
#endif
