public import KeelCore

/// Why a resource operation was refused or failed. `description` never quotes content or secrets.
public enum ResourceStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No resource has this reference (or its content was collected).
    case unknownReference(ResourceReference)
    /// The uploaded bytes do not hash to the digest the caller expected; nothing was stored.
    case digestMismatch(expected: String, actual: String)
    /// The media type is not `type/subtype`.
    case invalidMediaType(String)
    /// The content is stored in a backend this process is not configured for (e.g. a directory backend
    /// without `KEEL_RESOURCE_DIRECTORY`).
    case backendUnavailable(ResourceBackendKind)
    /// Stored bytes are missing or do not add up to the recorded size: the store was damaged outside Keel.
    case contentDamaged(sha256: String, detail: String)
    /// A file system operation of the directory backend failed.
    case io(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .unknownReference(let reference):
            "unknown resource \(reference)"
        case .digestMismatch(let expected, let actual):
            "content hash mismatch: expected sha256 \(expected), got \(actual); nothing was stored"
        case .invalidMediaType(let type):
            "invalid media type \"\(type.prefix(80))\" (expected type/subtype)"
        case .backendUnavailable(let backend):
            "the content is stored in the \(backend) backend, which is not configured here"
                + (backend == .directory ? " (set KEEL_RESOURCE_DIRECTORY)" : "")
        case .contentDamaged(let sha256, let detail):
            "stored content sha256 \(sha256) is damaged: \(detail)"
        case .io(let operation, let path, let errno):
            "\(operation) \(path) failed (errno \(errno))"
        }
    }

    /// Whether the caller asked for something wrong (exit 1) rather than the store failing (exit 2).
    public var isUserError: Bool {
        switch self {
        case .unknownReference, .digestMismatch, .invalidMediaType: true
        case .backendUnavailable, .contentDamaged, .io: false
        }
    }
}
