import Foundation
import KeelTestSupport
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
            let port = try Self.withListener { port, _ in port }  // closed again: nothing listens there now
            let error = try await TestSSH.sshError {
                _ = try await SSHSession.connect(try TestSSH.configuration(port: port), logger: TestSSH.logger)
            }
            #expect(error.code == .connectionFailed)
        }

        @Test("a server that never speaks SSH hits the connect timeout")
        func silentServer() async throws {
            try await Self.withListener { port, _ in
                let started = ContinuousClock.now
                let error = try await TestSSH.sshError {
                    _ = try await SSHSession.connect(
                        try TestSSH.configuration(port: port, connectTimeout: .seconds(1)), logger: TestSSH.logger)
                }
                #expect(error.code == .timeout)
                #expect(ContinuousClock.now - started < .seconds(10))
            }
        }

        @Test("sessions connect in parallel")
        func parallelSessions() async throws {
            try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await TestSSH.withSession { session async throws in try await session.execute("echo \(index)").stdoutText }
                    }
                }
                var outputs: Set<String> = []
                for try await output in group { outputs.insert(output) }
                #expect(outputs == Set((0..<6).map { "\($0)\n" }))
            }
        }

        @Test("after the sshd restarts, its host key is the same and new sessions work")
        func afterRestart() async throws {
            try TestEnvironment.runScript("scripts/servers/sshd.sh", "restart")
            try await TestSSH.withSession { session async throws in
                #expect(try await session.execute("echo back").stdoutText == "back\n")
            }
        }

        /// A TCP listener on 127.0.0.1 that accepts nothing and says nothing, for the duration of `body`.
        static func withListener<T>(_ body: (Int, Int32) async throws -> T) async throws -> T {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(descriptor >= 0)
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 16) == 0
                        && getsockname(descriptor, socketAddress, &length) == 0
                }
            }
            try #require(bound)
            return try await body(Int(UInt16(bigEndian: address.sin_port)), descriptor)
        }

        static func withListener<T>(_ body: (Int, Int32) throws -> T) throws -> T {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            try #require(descriptor >= 0)
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
                }
            }
            try #require(bound)
            return try body(Int(UInt16(bigEndian: address.sin_port)), descriptor)
        }
    }
}
