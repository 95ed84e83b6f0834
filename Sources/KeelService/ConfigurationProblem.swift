public import KeelStore

/// An error that means a service was configured wrongly, rather than that something failed: a setting it
/// cannot use, or an environment that cannot give what a setting asks for (step isolation without the
/// capabilities it needs). `KeelServiceMain.main` exits with status 2 for it, and 1 for anything else
/// (docs/configuration.md).
public protocol ConfigurationProblem: Error, CustomStringConvertible {}

extension ConfigurationError: ConfigurationProblem {}

/// A settings type's own error, kept whole, marked as a configuration problem: what `main` throws when a
/// service's `init(reader:)` fails.
public struct InvalidSettings: ConfigurationProblem {
    public let underlying: any Error

    public init(_ underlying: any Error) {
        self.underlying = underlying
    }

    public var description: String { "\(underlying)" }
}

extension ResourceConfigurationError: ConfigurationProblem {}
