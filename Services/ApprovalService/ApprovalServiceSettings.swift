import Configuration
import KeelService
import KeelStore

/// The approval-service's own settings (docs/configuration.md, docs/notifications.md), read at start
/// through the service's reader; one that cannot be used stops it with exit status 2.
struct ApprovalServiceSettings: Sendable {
    /// Where bound artifacts' contents are read from (`KEEL_RESOURCE_*`).
    var resources: ResourceConfiguration
    /// Signed webhook notifications (`KEEL_WEBHOOK_*`); off without a secret.
    var webhooks: WebhookSettings

    init(reader: ConfigReader) throws {
        resources = try ResourceConfiguration(reader: reader)
        webhooks = try WebhookSettings(reader: reader)
    }
}
