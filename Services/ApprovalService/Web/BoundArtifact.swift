import KeelCore
import KeelStore
import Logging

/// One value an approval is bound to, as the page shows it: a stored resource's content (at most
/// `BoundArtifact/displayLimit` bytes of it), or the JSON value itself.
struct BoundArtifact: Sendable {
    enum Content: Sendable {
        /// A resource's text; `truncated` when it is longer than the page shows.
        case text(String, mediaType: String, size: Int64, truncated: Bool)
        /// A resource that is not UTF-8 text.
        case binary(mediaType: String, size: Int64)
        /// A resource reference whose content is not in the store (expired or deleted).
        case missing(ResourceReference)
        /// A resource the store could not read just now (the error is logged).
        case unreadable(ResourceReference)
        /// A bound value that is not a resource reference.
        case json(JSONValue)
    }

    /// How much of a resource the page shows.
    static let displayLimit = 256 * 1024

    var name: String?
    /// The digest the approval recorded for this value (the decision form sends it back).
    var digest: String?
    var content: Content

    /// The resource a bound value names, read exactly as the approval's digest reads it (`ApprovalDigest`),
    /// so the page shows the bytes the digest covers: a `res:sha256:<hex>` string, or a step output's
    /// `{"$resource": "res:sha256:<hex>", ...}`. Anything else is a plain value.
    static func reference(in value: JSONValue) -> ResourceReference? {
        switch value {
        case .string: ResourceReference.references(in: value).first
        case .object(let object): object["$resource"].flatMap { ResourceReference.references(in: $0).first }
        default: nil
        }
    }

    /// Loads each bound value: resources from `store`, read only up to the display limit.
    static func load(bound: [JSONValue], digests: [String], from store: ResourceStore, logger: Logger) async
        -> [BoundArtifact]
    {
        var artifacts: [BoundArtifact] = []
        for (index, value) in bound.enumerated() {
            let digest = index < digests.count ? digests[index] : nil
            guard let reference = reference(in: value) else {
                artifacts.append(BoundArtifact(name: nil, digest: digest, content: .json(value)))
                continue
            }
            do {
                let record = try await store.show(reference)
                let (bytes, truncated) = try await prefix(of: reference, in: store)
                let content: Content =
                    if let text = utf8Text(bytes, truncated: truncated) {
                        .text(text, mediaType: record.mediaType, size: record.size, truncated: truncated)
                    } else {
                        .binary(mediaType: record.mediaType, size: record.size)
                    }
                artifacts.append(BoundArtifact(name: record.name, digest: digest, content: content))
            } catch ResourceStoreError.unknownReference {
                artifacts.append(BoundArtifact(name: nil, digest: digest, content: .missing(reference)))
            } catch {
                logger.warning(
                    "bound resource unreadable",
                    metadata: ["resource": .string(reference.description), "error": .string("\(error)")])
                artifacts.append(BoundArtifact(name: nil, digest: digest, content: .unreadable(reference)))
            }
        }
        return artifacts
    }

    /// The first `displayLimit` bytes of the content, and whether there is more.
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
