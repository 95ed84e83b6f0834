public import KeelCore

extension ResourceStore {
    /// The key of the reference object that replaces a JSON value too large to stay inline.
    public static let referenceKey = "$resource"

    /// Applies the inline rule to a step output or callback payload: a value whose canonical encoding is
    /// over `limits.inlineLimit` bytes is stored as an `application/json` resource and replaced by
    /// `{"$resource": "res:sha256:…", "size": N, "type": "application/json"}` (docs/resources.md);
    /// a value within the limit is returned unchanged.
    public func inlineOrStore(
        _ value: JSONValue, limits: ResourceLimits, name: String? = nil, producer: ResourceProducer? = nil
    ) async throws -> JSONValue {
        guard let bytes = limits.overflow(of: value) else { return value }
        let record = try await put(
            bytes: bytes,
            description: ResourceDescription(name: name, mediaType: "application/json", producer: producer))
        return Self.referenceObject(record.reference, size: record.size, mediaType: record.mediaType)
    }

    /// `{"$resource": "res:sha256:…", "size": N, "type": "…"}`.
    public static func referenceObject(_ reference: ResourceReference, size: Int64, mediaType: String)
        -> JSONValue
    {
        .object([
            referenceKey: .string(reference.description),
            "size": .number(JSONNumber(size)),
            "type": .string(mediaType),
        ])
    }

    /// The reference in a value made by `inlineOrStore`, nil for any other value.
    public static func storedReference(in value: JSONValue) -> ResourceReference? {
        guard let text = value.objectValue?[referenceKey]?.stringValue else { return nil }
        return try? ResourceReference(parsing: text)
    }
}
