import KeelCore

/// What a detached `ssh` job needs to call back: the keys its token is signed with and where
/// callback-gateway listens. Read from `KEEL_CALLBACK_KEYS`, `KEEL_CALLBACK_SIGNING_KEY` and
/// `KEEL_CALLBACK_GATEWAY_URL` (the gateway's base URL; the job gets `<base>/v1/callbacks`).
struct CallbackSettings: Sendable {
    var keys: CallbackKeyRing
    var gatewayURL: String

    /// How long a token outlives the wait's timeout, for clocks that drift and a late last heartbeat.
    static let expiryMargin: Duration = .seconds(600)

    init(keys: CallbackKeyRing, gatewayURL: String) {
        self.keys = keys
        self.gatewayURL = gatewayURL
    }

    /// nil when none of the settings is present (the executor then refuses `ssh` steps with a `wait`);
    /// a description of the problem when they are present but unusable.
    static func from(environment: [String: String]) throws(CallbackSettingsError) -> CallbackSettings? {
        let keys = environment["KEEL_CALLBACK_KEYS"] ?? ""
        let url = environment["KEEL_CALLBACK_GATEWAY_URL"] ?? ""
        if keys.isEmpty && url.isEmpty { return nil }
        guard !keys.isEmpty else { throw .missing("KEEL_CALLBACK_KEYS") }
        guard !url.isEmpty else { throw .missing("KEEL_CALLBACK_GATEWAY_URL") }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw .gatewayURL }
        do {
            let ring = try CallbackKeyRing(
                keysSetting: keys, signingKeyID: environment["KEEL_CALLBACK_SIGNING_KEY"])
            return CallbackSettings(keys: ring, gatewayURL: url)
        } catch {
            throw .keys(error)
        }
    }

    /// The URL a job posts its callbacks to.
    var callbackURL: String {
        var base = gatewayURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/v1/callbacks"
    }
}

/// Why the callback settings cannot be used; names settings, never a key.
enum CallbackSettingsError: Error, Sendable, CustomStringConvertible {
    case missing(String)
    case gatewayURL
    case keys(CallbackKeyRingError)

    var description: String {
        switch self {
        case .missing(let name): "\(name): required with the other callback settings"
        case .gatewayURL: "KEEL_CALLBACK_GATEWAY_URL: expected an http:// or https:// URL"
        case .keys(let error): error.description
        }
    }
}
