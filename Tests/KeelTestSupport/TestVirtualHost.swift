import Foundation

/// A RabbitMQ virtual host of a test's own on the real broker, so services started by one test never
/// consume another test's messages from the shared queue names (`keel.triggers`...).
public struct TestVirtualHost: Sendable {
    public let name: String
    /// `KEEL_AMQP_URL` pointing at this virtual host.
    public let url: String
    /// False for a virtual host the test did not create (a test cluster's own), which `delete()` keeps.
    let owned: Bool

    init(name: String, url: String, owned: Bool = true) {
        self.name = name
        self.url = url
        self.owned = owned
    }

    /// A virtual host that exists already, e.g. on a broker cluster a test started for itself.
    public static func existing(name: String, url: String) -> TestVirtualHost {
        TestVirtualHost(name: name, url: url, owned: false)
    }

    public static func create() async throws -> TestVirtualHost {
        let base = try TestEnvironment.require("KEEL_AMQP_URL")
        guard var components = URLComponents(string: base) else {
            throw ScriptFailed(script: "KEEL_AMQP_URL", status: 1, output: "not a URL")
        }
        let name = "test-\(UUID().uuidString.prefix(8).lowercased())"
        try await TestEnvironment.runScript("scripts/servers/rabbitmq.sh", "add-vhost", name)
        components.path = "/" + name
        return TestVirtualHost(name: name, url: components.string ?? base)
    }

    public func delete() async throws {
        guard owned else { return }
        try await TestEnvironment.runScript("scripts/servers/rabbitmq.sh", "delete-vhost", name)
    }
}
