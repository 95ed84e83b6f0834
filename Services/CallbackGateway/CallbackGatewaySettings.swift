import KeelService
import Configuration
import KeelCore
import KeelStore

/// The gateway's own settings, read through the service's reader: the callback keys (`KEEL_CALLBACK_KEYS`,
/// `KEEL_CALLBACK_SIGNING_KEY`; the same as the step-executor's, which signs), the largest upload
/// (`KEEL_CALLBACK_UPLOAD_MAX_BYTES`, default 1 GiB) and the resource store's settings.
struct CallbackGatewaySettings: Sendable {
    var keys: CallbackKeyRing
    var uploadMaximumBytes: Int64
    var resources: ResourceConfiguration

    static let defaultUploadMaximumBytes: Int64 = 1 << 30

    init(reader: ConfigReader) throws(CallbackGatewaySettingsError) {
        guard let keys = reader.string(environmentName: "KEEL_CALLBACK_KEYS", isSecret: true), !keys.isEmpty
        else {
            throw CallbackGatewaySettingsError(
                "KEEL_CALLBACK_KEYS: required (<id>:<base64 secret>,...); callbacks cannot be verified without it"
            )
        }
        do {
            self.keys = try CallbackKeyRing(
                keysSetting: keys, signingKeyID: reader.string(environmentName: "KEEL_CALLBACK_SIGNING_KEY"))
        } catch {
            throw CallbackGatewaySettingsError(error.description)
        }
        if let text = reader.string(environmentName: "KEEL_CALLBACK_UPLOAD_MAX_BYTES") {
            guard let value = Int64(text), value > 0 else {
                throw CallbackGatewaySettingsError(
                    "KEEL_CALLBACK_UPLOAD_MAX_BYTES: expected a positive number of bytes")
            }
            uploadMaximumBytes = value
        } else {
            uploadMaximumBytes = Self.defaultUploadMaximumBytes
        }
        do {
            resources = try ResourceConfiguration(reader: reader)
        } catch {
            throw CallbackGatewaySettingsError(error.description)
        }
    }
}

/// A setting the gateway cannot start with; names the setting, never a key.
struct CallbackGatewaySettingsError: ConfigurationProblem {
    var description: String
    init(_ description: String) { self.description = description }
}
