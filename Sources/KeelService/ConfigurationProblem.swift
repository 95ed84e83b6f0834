public import KeelStore

/// An error that means a service was configured wrongly, rather than that something failed: a setting it
/// cannot use, or an environment that cannot give what a setting asks for (step isolation without the
/// capabilities it needs). `KeelServiceMain.main` exits with status 2 for it, and 1 for anything else
/// (docs/configuration.md).
public protocol ConfigurationProblem: Error, CustomStringConvertible {}

extension ConfigurationError: ConfigurationProblem {}

extension ResourceConfigurationError: ConfigurationProblem {}
