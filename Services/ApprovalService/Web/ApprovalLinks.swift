import Foundation

/// The page's URLs for an approval. Ids are `<run uuid>:<step>:<attempt>:approval`; anything outside
/// the characters a path segment allows is percent-encoded.
enum ApprovalLinks {
    private static let segment = CharacterSet.urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))

    static func page(_ id: String) -> String {
        "/approvals/" + encoded(id)
    }

    static func decision(_ id: String) -> String {
        page(id) + "/decision"
    }

    static func encoded(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: segment) ?? id
    }
}
