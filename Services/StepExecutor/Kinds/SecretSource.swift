import Foundation

/// The secrets a step may read as `${{ secrets.NAME }}`: the executor's environment variables
/// `KEEL_SECRET_<NAME>` (docs/configuration.md). They never reach a step's process environment
/// unless a template puts them there, and every value used is redacted from stored output.
struct SecretSource: Sendable {
    /// Prefix of the environment variables holding secrets.
    static let environmentPrefix = "KEEL_SECRET_"

    private let values: [String: String]

    /// Secrets by name, as given.
    init(values: [String: String]) {
        self.values = values
    }

    /// The `KEEL_SECRET_<NAME>` variables of `environment` (by default the process's own).
    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        var values: [String: String] = [:]
        for (key, value) in environment where key.hasPrefix(Self.environmentPrefix) {
            let name = String(key.dropFirst(Self.environmentPrefix.count))
            if !name.isEmpty { values[name] = value }
        }
        self.init(values: values)
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
