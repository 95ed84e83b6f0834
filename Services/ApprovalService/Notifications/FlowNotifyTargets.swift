import Foundation
import KeelCore
import KeelStore
import Synchronization

/// The `notify:` entries of a flow version, read from `FlowStore` once per version: versions are
/// immutable, so a cached answer never goes stale.
final class FlowNotifyTargets: Sendable {
    let flows: FlowStore
    private let cache = Mutex<[String: [FlowNotification]]>([:])
    /// Versions kept before the cache starts over (each entry is at most ten URLs).
    static let capacity = 1024

    init(flows: FlowStore) {
        self.flows = flows
    }

    /// The flow version's entries; none when the version is not stored or this build cannot read it —
    /// database errors are thrown, for the delivery to be retried.
    func notify(flow: String, version: Int) async throws -> [FlowNotification] {
        let key = "\(flow)@\(version)"
        if let known = cache.withLock({ $0[key] }) { return known }
        let notify: [FlowNotification]
        do {
            let record = try await flows.version(flow: flow, number: version)
            notify = try FlowDefinition(canonicalJSON: JSONValue(parsing: record.definition)).notify
        } catch is FlowStoreError {
            notify = []
        } catch is FlowErrors {
            // A version this build cannot read (pushed by a newer one during an upgrade): the
            // configured URLs still get the event.
            notify = []
        }
        cache.withLock {
            if $0.count >= Self.capacity { $0.removeAll() }
            $0[key] = notify
        }
        return notify
    }
}
