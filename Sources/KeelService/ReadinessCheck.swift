/// One thing a service needs before it can do its work: its PostgreSQL pool, its broker connection, the
/// schema it was built for. `/health/ready` answers 200 only when every check passes.
public struct ReadinessCheck: Sendable {
    /// Short name shown in `/health/ready` and in the `keel_dependency_up` gauge, e.g. `postgres`.
    public let name: String
    /// Throws when the dependency is not usable. The error itself is only logged: its text can carry
    /// host names, user names or SQL, and `/health/ready` answers anyone.
    public let probe: @Sendable () async throws -> Void
    /// What `/health/ready` says about a failed probe: a fixed, data-free phrase such as
    /// "cannot connect", or one built from numbers only, never from the error's text.
    public let reason: @Sendable (any Error) -> String

    public init(
        name: String, reason: @escaping @Sendable (any Error) -> String = { _ in "not ready" },
        probe: @escaping @Sendable () async throws -> Void
    ) {
        self.name = name
        self.reason = reason
        self.probe = probe
    }
}
