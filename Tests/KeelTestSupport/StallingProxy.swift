import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A TCP proxy on 127.0.0.1 to a real server that can stop forwarding while keeping every socket open:
/// to a client, the server then looks like one behind a silent network (a partition, a dead NAT entry),
/// which loopback cannot otherwise produce. Connections accepted after `stall()` are forwarded again,
/// so a client can replace a silent connection with a working one.
public final class StallingProxy: Sendable {
    /// A socket call that failed while setting the proxy up.
    public struct SocketError: Error {
        public let step: String
    }

    public let port: Int
    private let listener: Int32
    private let targetPort: Int
    private let state = Mutex(State())

    private struct State {
        /// Each open connection's two sockets, by connection number.
        var connections: [Int: [Int32]] = [:]
        var nextID = 0
        /// Connections that no longer forward anything.
        var stalled: Set<Int> = []
        /// Whether connections accepted from now on stall at once.
        var stallingNew = false
        /// Connections one of whose two directions has ended.
        var halfEnded: Set<Int> = []
        /// How many of each stalled connection's two directions have stopped forwarding.
        var parked: [Int: Int] = [:]
        var closed = false
    }

    /// Listens on a free port and forwards each connection to `127.0.0.1:targetPort`.
    public init(targetPort: Int) throws {
        let listener = try Self.socketOrThrow()
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            Self.closeDescriptor(listener)
            throw SocketError(step: "bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.targetPort = targetPort
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "stalling-proxy.accept"
        thread.start()
    }

    /// Stops forwarding on every connection open now, in both directions, without closing any.
    /// Returns once nothing more is forwarded, so a statement sent afterwards surely goes unanswered.
    public func stall() {
        let stalling = state.withLock { state in
            state.stalled.formUnion(state.connections.keys)
            return Array(state.connections.keys)
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let quiet = state.withLock { state in
                stalling.allSatisfy { id in
                    state.connections[id] == nil
                        || (state.parked[id] ?? 0) + (state.halfEnded.contains(id) ? 1 : 0) >= 2
                }
            }
            if quiet { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    /// Makes connections accepted from now on stall at once, like a server that accepts and never answers.
    public func stallNewConnections() {
        state.withLock { $0.stallingNew = true }
    }

    /// Stops accepting and ends every connection. Sockets are only shut down here: each is closed by
    /// the last of its connection's two threads, so no thread can touch a reused descriptor number.
    public func close() {
        let descriptors = state.withLock { state -> [Int32] in
            state.closed = true
            return state.connections.values.flatMap { $0 }
        }
        for descriptor in descriptors { shutdown(descriptor, Int32(SHUT_RDWR)) }
    }

    private var isClosed: Bool { state.withLock { $0.closed } }

    private func isStalled(_ connection: Int) -> Bool {
        state.withLock { $0.stalled.contains(connection) }
    }

    /// Called by each of a connection's two threads as it ends; the second closes the sockets.
    private func finish(_ connection: Int) {
        let done: [Int32]? = state.withLock { state in
            guard state.halfEnded.remove(connection) != nil else {
                state.halfEnded.insert(connection)
                return nil
            }
            return state.connections.removeValue(forKey: connection)
        }
        for descriptor in done ?? [] { Self.closeDescriptor(descriptor) }
    }

    private func acceptLoop() {
        defer { Self.closeDescriptor(listener) }
        while !isClosed {
            guard Self.readable(listener) else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            guard let server = try? Self.connectToTarget(port: targetPort) else {
                Self.closeDescriptor(client)
                continue
            }
            let id: Int? = state.withLock { state in
                guard !state.closed else { return nil }
                state.nextID += 1
                state.connections[state.nextID] = [client, server]
                if state.stallingNew { state.stalled.insert(state.nextID) }
                return state.nextID
            }
            guard let id else {
                Self.closeDescriptor(client)
                Self.closeDescriptor(server)
                return
            }
            for (from, to) in [(client, server), (server, client)] {
                let pump = Thread { [self] in
                    forward(connection: id, from: from, to: to)
                    finish(id)
                }
                pump.name = "stalling-proxy.pump"
                pump.start()
            }
        }
    }

    /// Copies bytes from one socket to the other until either closes, the proxy closes, or it stalls
    /// (then it only waits, leaving unread bytes in the kernel, which still acknowledges them).
    private func forward(connection: Int, from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var parked = false
        while !isClosed {
            // Checked again after the wait, so bytes that arrived meanwhile stay unread once stalled.
            if !parked, isStalled(connection) {
                parked = true
                state.withLock { $0.parked[connection, default: 0] += 1 }
            }
            if parked {
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            guard Self.readable(source), !isStalled(connection) else { continue }
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var sent = 0
            while sent < count {
                let written = buffer[sent..<count].withUnsafeBytes {
                    write(destination, $0.baseAddress, $0.count)
                }
                guard written > 0 else { return }
                sent += written
            }
        }
        // One side ended: end the other too, as a real proxy would.
        shutdown(destination, Int32(SHUT_WR))
    }

    private static func readable(_ descriptor: Int32) -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 50) > 0
    }

    private static func connectToTarget(port: Int) throws -> Int32 {
        let descriptor = try socketOrThrow()
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            closeDescriptor(descriptor)
            throw SocketError(step: "connect")
        }
        return descriptor
    }

    private static func socketOrThrow() throws -> Int32 {
        #if canImport(Glibc)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw SocketError(step: "socket") }
        return descriptor
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func closeDescriptor(_ descriptor: Int32) {
        #if canImport(Glibc)
            _ = Glibc.close(descriptor)
        #else
            _ = Darwin.close(descriptor)
        #endif
    }
}
