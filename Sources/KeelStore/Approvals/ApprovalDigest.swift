import KeelCore

/// The digest an approval records for each bound value: for a resource (a `res:sha256:…` reference, or
/// the `{"$resource": …}` object step outputs carry) its own SHA-256, so the digest names the bytes
/// reviewed; for any other value the SHA-256 of its canonical JSON.
enum ApprovalDigest {
    static func of(_ value: JSONValue) -> String {
        let referenced: ResourceReference? =
            switch value {
            case .string(let text): ResourceReference.references(in: .string(text)).first
            case .object(let object):
                object["$resource"].flatMap { ResourceReference.references(in: $0).first }
            default: nil
            }
        return referenced?.sha256 ?? ContentDigest.sha256Hex(of: value.jsonBytes(.canonical))
    }
}
