public import KeelCore

/// The resource settings shared by the CLI and the services (docs/configuration.md):
/// `KEEL_RESOURCE_BACKEND` (`postgres` or `directory`), `KEEL_RESOURCE_DIRECTORY`, `KEEL_RESOURCE_INLINE_LIMIT`.
public struct ResourceConfiguration: Sendable, Hashable {
    public var backend: ResourceBackendKind
    /// The directory backend's root; required when `backend` is `.directory`, and used to read content
    /// stored there whatever the backend for new content.
    public var directory: String?
    public var limits: ResourceLimits

    public init(
        backend: ResourceBackendKind = .postgres, directory: String? = nil, limits: ResourceLimits = .default
    ) {
        self.backend = backend
        self.directory = directory
        self.limits = limits
    }

    /// Reads the three settings through `value` (flag, environment, `.keel/env`, in the caller's order).
    public init(value: (String) -> String?) throws(ResourceConfigurationError) {
        let backendText = value("KEEL_RESOURCE_BACKEND") ?? ResourceBackendKind.postgres.rawValue
        guard let backend = ResourceBackendKind(rawValue: backendText) else {
            throw ResourceConfigurationError(
                setting: "KEEL_RESOURCE_BACKEND", value: backendText, expected: "postgres or directory")
        }
        let directory = value("KEEL_RESOURCE_DIRECTORY")
        if backend == .directory && directory == nil {
            throw ResourceConfigurationError(
                setting: "KEEL_RESOURCE_DIRECTORY", value: "",
                expected: "a directory (the backend is directory)")
        }
        var limits = ResourceLimits.default
        if let text = value("KEEL_RESOURCE_INLINE_LIMIT") {
            guard let limit = Int(text), limit >= 0 else {
                throw ResourceConfigurationError(
                    setting: "KEEL_RESOURCE_INLINE_LIMIT", value: text, expected: "a number of bytes >= 0")
            }
            limits.inlineLimit = limit
        }
        self.init(backend: backend, directory: directory, limits: limits)
    }
}

/// A resource setting with a value Keel cannot use.
public struct ResourceConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let setting: String
    public let value: String
    public let expected: String

    public var description: String { "\(setting)=\"\(value.prefix(200))\" is invalid: expected \(expected)" }
}
