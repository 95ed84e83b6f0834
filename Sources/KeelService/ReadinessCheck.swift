/// One thing a service needs before it can do its work: its PostgreSQL pool, its broker connection, the
/// schema it was built for. `/health/ready` answers 200 only when every check passes.
public struct ReadinessCheck: Sendable {
    /// Short name shown in `/health/ready` and in the `keel_dependency_up` gauge, e.g. `postgres`.
    public let name: String
    /// Throws when the dependency is not usable; the error's description is shown to operators, so it
    /// must not contain secrets (the clients' errors do not).
    public let probe: @Sendable () async throws -> Void

    public init(name: String, probe: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.probe = probe
    }
}
