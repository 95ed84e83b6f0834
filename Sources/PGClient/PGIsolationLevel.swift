/// The isolation level a transaction runs at; `.serializable` transactions may fail with 40001 and
/// are then retried by `PGPool.withTransaction`.
public enum PGIsolationLevel: String, Sendable, CaseIterable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}
