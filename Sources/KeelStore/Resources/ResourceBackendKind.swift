/// Where content bytes live. Metadata is always in PostgreSQL.
public enum ResourceBackendKind: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Chunks of `bytea` in `resource_chunks` (the default: nothing else to run or back up).
    case postgres
    /// Files under a local directory, `<dir>/sha256/<ab>/<sha256>`.
    case directory

    public var description: String { rawValue }
}
