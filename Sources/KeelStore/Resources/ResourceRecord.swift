public import Foundation
public import KeelCore

/// One named use of stored content: what `keel resource show` and `ls` print.
public struct ResourceRecord: Sendable, Hashable, Codable {
    public var id: UUID
    public var reference: ResourceReference
    public var name: String?
    public var mediaType: String
    public var size: Int64
    public var producer: ResourceProducer?
    public var retention: ResourceRetention
    public var createdAt: Date
    /// The backend holding the content.
    public var backend: ResourceBackendKind
}

/// The run, step and attempt that produced a resource; absent for a resource put by hand.
public struct ResourceProducer: Sendable, Hashable, Codable {
    public var runID: RunID
    public var step: String?
    public var attempt: Int?

    public init(runID: RunID, step: String? = nil, attempt: Int? = nil) {
        self.runID = runID
        self.step = step
        self.attempt = attempt
    }
}

/// How long a resource's metadata (and so its content) is kept.
public enum ResourceRetention: String, Sendable, Hashable, Codable, CaseIterable {
    /// Collected once its run finished before the cutoff (or, unattached, once older than it).
    case standard
    /// Never collected.
    case keep
}

/// What to record about content being stored.
public struct ResourceDescription: Sendable, Hashable {
    public var name: String?
    public var mediaType: String
    public var producer: ResourceProducer?
    public var retention: ResourceRetention

    public init(
        name: String? = nil, mediaType: String = ResourceMediaType.fallback,
        producer: ResourceProducer? = nil, retention: ResourceRetention = .standard
    ) {
        self.name = name
        self.mediaType = mediaType
        self.producer = producer
        self.retention = retention
    }
}
