public import Configuration

extension ConfigReader {
    /// The setting the docs name by its environment variable (`KEEL_CALLBACK_KEYS`), read through this
    /// reader: from the flag `--callback-keys` or the variable, whichever of the reader's providers answers
    /// first. Every service setting is read this way, so the variable stays its one documented spelling and
    /// every setting can also be given as a flag or from a test's in-memory reader.
    public func string(environmentName name: String, isSecret: Bool = false) -> String? {
        string(forKey: Self.key(environmentName: name), isSecret: isSecret)
    }

    /// `KEEL_CALLBACK_KEYS` → `callback.keys`: the key whose environment spelling, under the `KEEL_` prefix
    /// of `KeelConfiguration.standardReader`, is the variable.
    static func key(environmentName name: String) -> ConfigKey {
        let unprefixed = name.hasPrefix("KEEL_") ? name.dropFirst(5) : name[...]
        return ConfigKey(unprefixed.lowercased().split(separator: "_").map(String.init))
    }
}
