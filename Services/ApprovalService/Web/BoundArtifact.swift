import KeelCore
import KeelStore

/// One value an approval is bound to, as the page shows it: a stored resource's content (at most
/// ``BoundArtifact/displayLimit`` bytes of it), or the JSON value itself.
struct BoundArtifact: Sendable {
    enum Content: Sendable {
        /// A resource's text; `truncated` when it is longer than the page shows.
        case text(String, mediaType: String, size: Int64, truncated: Bool)
        /// A resource that is not UTF-8 text.
        case binary(mediaType: String, size: Int64)
        /// A resource reference whose content is not in the store (expired or deleted).
        case missing(ResourceReference)
        /// A bound value that is not a resource reference.
        case json(JSONValue)
    }

    /// How much of a resource the page shows.
    static let displayLimit = 256 * 1024

    var name: String?
    /// The digest the approval recorded for this value (the decision form sends it back).
    var digest: String?
    var content: Content

    /// The resource a bound value names: a string `res:sha256:<hex>`, `sha256:<hex>` or a bare digest, or
    /// a step output's `{"$resource": "res:sha256:<hex>", ...}`.
    static func reference(in value: JSONValue) -> ResourceReference? {
        if let embedded = value["$resource"] { return reference(in: embedded) }
        guard case .string(let text) = value else { return nil }
        let hex = text.hasPrefix("sha256:") ? String(text.dropFirst("sha256:".count)) : text
        return try? ResourceReference(parsing: hex)
    }

    /// Loads each bound value: resources from `store`, read only up to the display limit.
    static func load(bound: [JSONValue], digests: [String], from store: ResourceStore) async throws
        -> [BoundArtifact]
    {
        var artifacts: [BoundArtifact] = []
        for (index, value) in bound.enumerated() {
            let digest = index < digests.count ? digests[index] : nil
            guard let reference = reference(in: value) else {
                artifacts.append(BoundArtifact(name: nil, digest: digest, content: .json(value)))
                continue
            }
            let record: ResourceRecord
            do {
                record = try await store.show(reference)
            } catch ResourceStoreError.unknownReference {
                artifacts.append(BoundArtifact(name: nil, digest: digest, content: .missing(reference)))
                continue
            }
            let (bytes, truncated) = try await prefix(of: reference, in: store)
            let content: Content =
                if let text = utf8Text(bytes, truncated: truncated) {
                    .text(text, mediaType: record.mediaType, size: record.size, truncated: truncated)
                } else {
                    .binary(mediaType: record.mediaType, size: record.size)
                }
            artifacts.append(BoundArtifact(name: record.name, digest: digest, content: content))
        }
        return artifacts
    }

    /// The first ``displayLimit`` bytes of the content, and whether there is more.
    private static func prefix(of reference: ResourceReference, in store: ResourceStore) async throws
        -> ([UInt8], Bool)
    {
        var bytes: [UInt8] = []
        for try await chunk in try await store.open(reference).chunks {
            bytes.append(contentsOf: chunk)
            if bytes.count > displayLimit {
                return (Array(bytes.prefix(displayLimit)), true)
            }
        }
        return (bytes, false)
    }

    /// The bytes as text when they are UTF-8 without NUL bytes; a sequence cut by truncation is dropped.
    private static func utf8Text(_ bytes: [UInt8], truncated: Bool) -> String? {
        guard !bytes.contains(0) else { return nil }
        // A cut can split one character of at most 4 bytes: try dropping up to 3 trailing bytes.
        for dropped in 0...(truncated ? 3 : 0) where dropped <= bytes.count {
            if let text = String(validating: bytes.dropLast(dropped), as: UTF8.self) { return text }
        }
        return nil
    }
}
