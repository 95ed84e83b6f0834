import Foundation

/// The secrets a step may read as `${{ secrets.NAME }}`: the executor's environment variables
/// `KEEL_SECRET_<NAME>` (docs/configuration.md). They never reach a step's process environment
/// unless a template puts them there, and every one of them (used or not) is masked in what a step
/// stores, with the executor's own credentials.
struct SecretSource: Sendable {
    /// Prefix of the environment variables holding secrets.
    static let environmentPrefix = "KEEL_SECRET_"

    private let values: [String: String]
    /// Masked in every step's stored streams, outputs and messages: each secret value (and each line of a
    /// multi-line one) and `ExecutorCredentials`.
    let masked: [String]

    /// Secrets by name, as given, with `credentials` masked too.
    init(values: [String: String], credentials: [String] = []) {
        self.values = values
        var masked: [String] = []
        for value in values.values.sorted() {
            masked.append(value)
            let lines = value.split(whereSeparator: \.isNewline).map(String.init)
            if lines.count > 1 { masked += lines }
        }
        self.masked = masked + credentials
    }

    /// The `KEEL_SECRET_<NAME>` variables of `environment` (the process's, as the service started with it:
    /// `KeelServiceMain.Dependencies.environment`). Secrets are the one setting family read from the
    /// environment itself: their names are not known in advance, and a reader answers only for known keys.
    init(environment: [String: String]) {
        var values: [String: String] = [:]
        for (key, value) in environment where key.hasPrefix(Self.environmentPrefix) {
            let name = String(key.dropFirst(Self.environmentPrefix.count))
            if !name.isEmpty { values[name] = value }
        }
        self.init(values: values, credentials: ExecutorCredentials.values(in: environment))
    }

    /// The secret's value, nil when there is none.
    func value(named name: String) -> String? { values[name] }

    /// The secret names known (never the values), for diagnostics.
    var names: [String] { values.keys.sorted() }

    /// A resolver for `ExpressionContext.secretResolver`.
    var resolver: @Sendable (String) -> String? {
        let values = values
        return { values[$0] }
    }
}
