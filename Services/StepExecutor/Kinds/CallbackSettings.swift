import KeelService
import Configuration
import Foundation
import KeelCore

/// What work that calls back (an `ssh` job, or whatever a `run` step with `wait` hands its token to)
/// needs: the keys its token is signed with and where callback-gateway listens. Read from `KEEL_CALLBACK_KEYS`, `KEEL_CALLBACK_SIGNING_KEY` and
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

    /// nil when none of the settings is present (the executor then refuses `run` and `ssh` steps with a
    /// `wait`);
    /// a description of the problem when they are present but unusable.
    static func from(reader: ConfigReader) throws(CallbackSettingsError) -> CallbackSettings? {
        let keys = reader.string(environmentName: "KEEL_CALLBACK_KEYS", isSecret: true) ?? ""
        let url = reader.string(environmentName: "KEEL_CALLBACK_GATEWAY_URL") ?? ""
        if keys.isEmpty && url.isEmpty { return nil }
        guard !keys.isEmpty else { throw .missing("KEEL_CALLBACK_KEYS") }
        guard !url.isEmpty else { throw .missing("KEEL_CALLBACK_GATEWAY_URL") }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw .gatewayURL }
        do {
            let ring = try CallbackKeyRing(
                keysSetting: keys, signingKeyID: reader.string(environmentName: "KEEL_CALLBACK_SIGNING_KEY"))
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

    /// The callback token of the attempt's wait, valid for `lead` (how long the work may run before the
    /// wait opens), then the wait's timeout plus `expiryMargin`. A secret: it must reach only the work's
    /// environment, never logs or stored outputs.
    func token(for work: StepWork, wait: WaitCondition, now: Date, lead: Duration = .zero) -> String {
        let lifetime = lead + wait.timeout.duration + Self.expiryMargin
        let expires = Int64(now.timeIntervalSince1970) + lifetime.components.seconds
        let claims = CallbackClaims(
            run: work.runID, step: work.step.id, attempt: work.attempt,
            wait: AttemptID(run: work.runID, step: work.step.id, attempt: work.attempt).waitID,
            expires: expires)
        return CallbackToken.mint(claims, keys: keys)
    }

    /// `KEEL_CALLBACK_URL` and `KEEL_CALLBACK_TOKEN`, for the work's environment.
    func variables(token: String) -> [String: String] {
        ["KEEL_CALLBACK_URL": callbackURL, "KEEL_CALLBACK_TOKEN": token]
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
