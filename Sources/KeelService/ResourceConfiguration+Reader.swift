public import Configuration
public import KeelStore

extension ResourceConfiguration {
    /// The resource store's settings (`KEEL_RESOURCE_BACKEND`, `KEEL_RESOURCE_DIRECTORY`,
    /// `KEEL_RESOURCE_INLINE_LIMIT`), read through `reader` as every service setting is.
    public init(reader: ConfigReader) throws(ResourceConfigurationError) {
        try self.init(value: { reader.string(environmentName: $0) })
    }
}
