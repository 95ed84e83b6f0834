import Foundation
import KeelTestSupport

/// A RabbitMQ cluster of its own for one test, started by `scripts/servers/rabbitmq-cluster.sh` in a
/// state folder of its own, on ports 3000 above the test broker's (node k on base + k − 1), so it never
/// touches the broker every other test shares.
struct TestBrokerCluster {
    let state: URL
    let basePort: Int
    let nodes: Int

    /// The script's settings: where the cluster keeps its nodes, and its first port.
    var environment: [String: String] {
        ["KEEL_STATE_DIR": state.path, "KEEL_AMQP_PORT": "\(basePort)"]
    }

    /// Every node, as services are given them.
    var url: String {
        "amqp://keel:keel@"
            + (0..<nodes).map { "127.0.0.1:\(basePort + $0)" }.joined(separator: ",") + "/keel"
    }

    /// The cluster's `keel` virtual host, which goes with the cluster.
    var virtualHost: TestVirtualHost { .existing(name: "keel", url: url) }

    static func start(nodes: Int = 3) async throws -> TestBrokerCluster {
        let testPort = Int(TestEnvironment.value("KEEL_AMQP_PORT") ?? "") ?? 5672
        let state = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keel-cluster-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        let cluster = TestBrokerCluster(state: state, basePort: testPort + 3000, nodes: nodes)
        do {
            try await cluster.script("start", "\(nodes)")
        } catch {
            await cluster.stop()
            throw error
        }
        return cluster
    }

    @discardableResult
    func script(_ arguments: String...) async throws -> String {
        try await TestEnvironment.runScript(
            "scripts/servers/rabbitmq-cluster.sh", arguments: arguments, environment: environment,
            timeout: .seconds(300))
    }

    /// The node (1-based) that leads a quorum queue of the `keel` virtual host.
    func leader(of queue: String) async throws -> Int? {
        let listing = try await script(
            "ctl", "list_queues", "-p", "keel", "name", "leader", "--no-table-headers")
        for line in listing.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count == 2, fields[0] == queue else { continue }
            // keel-<port>@localhost
            let port = fields[1].split(separator: "@").first.flatMap { Int($0.dropFirst("keel-".count)) }
            return port.map { $0 - basePort + 1 }
        }
        return nil
    }

    func pid(ofNode node: Int) async throws -> Int32? {
        Int32(try await script("node-pid", "\(node)").trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Stops every node still running and removes the cluster's folder.
    func stop() async {
        _ = try? await script("stop")
        // The nodes' logs outlive the cluster when KEEL_KEEP_CLUSTER_LOGS names a folder (debugging).
        if let keep = TestEnvironment.value("KEEL_KEEP_CLUSTER_LOGS") {
            try? FileManager.default.copyItem(
                at: state, to: URL(fileURLWithPath: keep).appendingPathComponent(state.lastPathComponent))
        }
        try? FileManager.default.removeItem(at: state)
    }
}
