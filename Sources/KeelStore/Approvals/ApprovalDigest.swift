import KeelCore

/// The digest an approval records for each bound value: a resource reference's own SHA-256 (so the digest
/// names the bytes reviewed), else the SHA-256 of the value's canonical JSON.
enum ApprovalDigest {
    static func of(_ value: JSONValue) -> String {
        if let text = value.stringValue, let reference = try? ResourceReference(parsing: text) {
            return reference.sha256
        }
        return ContentDigest.sha256Hex(of: value.jsonBytes(.canonical))
    }
}
