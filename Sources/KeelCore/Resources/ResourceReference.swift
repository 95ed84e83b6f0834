/// The compact, stable name of a stored resource: `res:sha256:<64 lowercase hex digits>`.
///
/// It names content, not a file: the same bytes always have the same reference, so it fits in any message,
/// history fact or step output and can be checked against what a reader gets back.
public struct ResourceReference: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The SHA-256 of the content, 64 lowercase hex digits.
    public let sha256: String

    static let prefix = "res:sha256:"

    /// A reference to content with this SHA-256; nil unless it is 64 lowercase hex digits.
    public init?(sha256: String) {
        guard Self.isSHA256Hex(sha256) else { return nil }
        self.sha256 = sha256
    }

    /// Parses `res:sha256:<hex>`; a bare 64-digit hex digest is accepted as well, since people paste those.
    public init(parsing text: String) throws(ResourceReferenceError) {
        let hex = text.hasPrefix(Self.prefix) ? String(text.dropFirst(Self.prefix.count)) : text
        guard Self.isSHA256Hex(hex) else { throw ResourceReferenceError(text: text) }
        sha256 = hex
    }

    public var description: String { Self.prefix + sha256 }

    public static func < (lhs: ResourceReference, rhs: ResourceReference) -> Bool { lhs.sha256 < rhs.sha256 }

    static func isSHA256Hex(_ text: String) -> Bool {
        let utf8 = text.utf8
        return utf8.count == 64
            && utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

extension ResourceReference: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A string that is not a resource reference. Quotes at most the first 80 characters of it.
public struct ResourceReferenceError: Error, Sendable, Hashable, CustomStringConvertible {
    public let text: String

    public var description: String {
        let shown = text.count > 80 ? String(text.prefix(80)) + "..." : text
        return "not a resource reference: \"\(shown)\" (expected res:sha256:<64 lowercase hex digits>)"
    }
}
