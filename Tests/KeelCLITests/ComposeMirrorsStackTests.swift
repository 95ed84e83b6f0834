import Foundation
import KeelTestSupport
import Testing
import Yams

/// Compose/docker-compose.yml mirrors scripts/stack: the same four services on the same ports, given the
/// same settings. The two are written by hand, so this is what keeps one from drifting from the other.
@Suite("Compose mirrors the stack")
struct ComposeMirrorsStackTests {
    static func text(_ path: String) throws -> String {
        try String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent(path), encoding: .utf8)
    }

    /// `declare -A PORTS=([trigger-intake]=7401 ...)` of scripts/stack.
    static func stackPorts() throws -> [String: Int] {
        let script = try text("scripts/stack")
        let line = try #require(script.split(separator: "\n").first { $0.hasPrefix("declare -A PORTS=") })
        var ports: [String: Int] = [:]
        for match in line.matches(of: /\[([a-z-]+)\]=([0-9]+)/) {
            ports[String(match.1)] = Int(match.2)
        }
        return ports
    }

    /// Every setting the stack gives its services: what scripts/stack writes (callback settings, the HTTP
    /// address) and the server URLs the server scripts write.
    static func stackSettings() throws -> Set<String> {
        var settings = Set<String>()
        for path in ["scripts/stack", "scripts/servers/postgres.sh", "scripts/servers/rabbitmq.sh"] {
            for match in try text(path).matches(of: /(KEEL_[A-Z_]+)=/) {
                settings.insert(String(match.1))
            }
        }
        // Settings for the CLI, the tests and the scripts themselves, not for services.
        return settings.subtracting([
            "KEEL_PG_PORT", "KEEL_AMQP_PORT", "KEEL_AMQPS_PORT", "KEEL_RABBITMQCTL", "KEEL_TLS_DIR",
        ])
    }

    static func compose() throws -> [String: [String: Any]] {
        let document = try #require(
            try Yams.load(yaml: try text("Compose/docker-compose.yml")) as? [String: Any])
        return try #require(document["services"] as? [String: [String: Any]])
    }

    @Test("each service of the stack is in Compose on the stack's port")
    func servicesAndPorts() throws {
        let ports = try Self.stackPorts()
        #expect(
            Set(ports.keys) == ["trigger-intake", "step-executor", "approval-service", "callback-gateway"])
        let services = try Self.compose()
        for (name, port) in ports {
            let service = try #require(services[name], "Compose has no \(name)")
            let published = service["ports"] as? [String] ?? []
            #expect(published == ["127.0.0.1:\(port):\(port)"], "\(name): \(published)")
            let environment = service["environment"] as? [String: Any] ?? [:]
            #expect("\(environment["KEEL_HTTP_PORT"] ?? "")" == "\(port)", "\(name) listens elsewhere")
        }
    }

    @Test("each service in Compose gets every setting the stack gives it")
    func settings() throws {
        let settings = try Self.stackSettings()
        #expect(settings.isSuperset(of: ["KEEL_DATABASE_URL", "KEEL_AMQP_URL", "KEEL_CALLBACK_KEYS"]))
        let services = try Self.compose()
        for name in try Self.stackPorts().keys {
            let service = try #require(services[name])
            let environment = Set((service["environment"] as? [String: Any] ?? [:]).keys)
            // Secrets are read from files by the entrypoint, which exports them.
            let entrypoint = (service["entrypoint"] as? [String] ?? []).joined(separator: " ")
            for setting in settings {
                #expect(
                    environment.contains(setting) || entrypoint.contains("export \(setting)="),
                    "\(name) is not given \(setting) in Compose")
            }
            // No secret is written into the file itself.
            for secret in ["KEEL_CALLBACK_KEYS", "KEEL_DATABASE_URL"] {
                #expect(!environment.contains(secret), "\(name) has \(secret) in plain text")
            }
        }
    }
}
