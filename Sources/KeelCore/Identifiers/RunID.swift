public import Foundation

/// A run's identity: a UUID, version 7 when Keel made it (`RunID.make`), so ids sort by creation time.
///
/// Its text is the UUID in lower case everywhere: history, messages, logs, URLs, the CLI. Text from
/// outside (a message, a URL path, an argument) becomes a `RunID` once, where it enters (`init?(_:)`,
/// or `Codable`), and code past that point never converts ids to and from `UUID` by hand.
public struct RunID: Hashable, Sendable, Comparable, LosslessStringConvertible {
    public let uuid: UUID
    /// Lower-case text, e.g. `0193a5e2-7c1f-7b3a-9f1e-2c4d5e6f7a8b`. Made once: the engine composes wait,
    /// approval and idempotency keys from it for every step, and logs and messages carry it.
    public let description: String

    public init(_ uuid: UUID) {
        self.uuid = uuid
        self.description = uuid.uuidString.lowercased()
    }

    /// The id in `text`, in any case; nil when it is not a UUID. The length is checked first: the UUID
    /// parser reads the text as a C string, so `<uuid>\u{0}<anything>` would otherwise pass as the UUID.
    public init?(_ text: String) {
        guard text.utf8.count == 36, let uuid = UUID(uuidString: text) else { return nil }
        self.init(uuid)
    }

    public static func == (lhs: RunID, rhs: RunID) -> Bool { lhs.uuid == rhs.uuid }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(uuid)
    }

    /// Text order, which for version 7 ids is creation order.
    public static func < (lhs: RunID, rhs: RunID) -> Bool { lhs.description < rhs.description }

    /// A new version 7 id for a run created at `millisecondsSinceEpoch`.
    public static func make(millisecondsSinceEpoch: Int64, using generator: inout some RandomNumberGenerator)
        -> RunID
    {
        RunID(UUIDv7.make(millisecondsSinceEpoch: millisecondsSinceEpoch, using: &generator))
    }
}

/// A run id is a JSON string (its text): history, snapshots and messages keep the form they always had.
extension RunID: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = RunID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a run id must be a UUID")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
