import Foundation
import SSHClient
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension SSHServerTests {
    @Suite("Connecting")
    struct Connecting {
        @Test("a port nobody listens on fails with connectionFailed")
        func refused() async throws {
            let (descriptor, port) = try Self.loopbackSocket(listening: false)
            defer { close(descriptor) }
            let error = try await TestSSH.sshError {
                _ = try await SSHSession.connect(
                    try TestSSH.configuration(port: port), logger: TestSSH.logger)
            }
            #expect(error.code == .connectionFailed)
        }

        @Test("a server that never speaks SSH hits the connect timeout")
        func silentServer() async throws {
            let (descriptor, port) = try Self.loopbackSocket(listening: true)
            defer { close(descriptor) }
            let started = ContinuousClock.now
            let error = try await TestSSH.sshError {
                _ = try await SSHSession.connect(
                    try TestSSH.configuration(port: port, connectTimeout: .seconds(1)),
                    logger: TestSSH.logger)
            }
            #expect(error.code == .timeout)
            #expect(ContinuousClock.now - started < .seconds(10))
        }

        @Test("sessions connect in parallel")
        func parallelSessions() async throws {
            try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await TestSSH.withSession { session async throws in
                            try await session.execute("echo \(index)").stdoutText
                        }
                    }
                }
                var outputs: Set<String> = []
                for try await output in group { outputs.insert(output) }
                #expect(outputs == Set((0..<6).map { "\($0)\n" }))
            }
        }

        /// A TCP socket bound to a free port of 127.0.0.1: listening (the kernel accepts connections, nobody
        /// ever answers) or not (connections are refused). The caller closes the descriptor.
        static func loopbackSocket(listening: Bool) throws -> (descriptor: Int32, port: Int) {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(descriptor >= 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    bind(descriptor, socketAddress, length) == 0
                        && (!listening || listen(descriptor, 16) == 0)
                        && getsockname(descriptor, socketAddress, &length) == 0
                }
            }
            if !bound { close(descriptor) }
            try #require(bound)
            return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
        }
    }
}
