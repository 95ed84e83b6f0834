/// Media types of resources: the small table that guesses one from a file name, and which types are text
/// (the ones redaction applies to).
public enum ResourceMediaType {
    /// What a resource is when nothing better is known.
    public static let fallback = "application/octet-stream"

    /// File extensions Keel recognises (lowercased, without the dot). Deliberately small: pass `--type`
    /// for anything else.
    public static let byExtension: [String: String] = [
        "txt": "text/plain",
        "log": "text/plain",
        "md": "text/markdown",
        "csv": "text/csv",
        "html": "text/html",
        "diff": "text/x-diff",
        "patch": "text/x-diff",
        "json": "application/json",
        "yaml": "application/yaml",
        "yml": "application/yaml",
        "xml": "application/xml",
        "pdf": "application/pdf",
        "gz": "application/gzip",
        "tgz": "application/gzip",
        "zst": "application/zstd",
        "tar": "application/x-tar",
        "zip": "application/zip",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "svg": "image/svg+xml",
    ]

    /// The media type for a file name by its extension, else `application/octet-stream`.
    public static func guess(forFileName name: String) -> String {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return fallback }
        return byExtension[base[base.index(after: dot)...].lowercased()] ?? fallback
    }

    /// Whether content of this type is text (`text/*`), which is what secret redaction rewrites.
    public static func isText(_ mediaType: String) -> Bool {
        mediaType.lowercased().hasPrefix("text/")
    }

    /// Whether a media type is well formed enough to store: `type/subtype`, printable ASCII, at most 255 bytes.
    public static func isValid(_ mediaType: String) -> Bool {
        let utf8 = mediaType.utf8
        guard utf8.count <= 255, let slash = mediaType.firstIndex(of: "/"),
            slash != mediaType.startIndex, mediaType.index(after: slash) != mediaType.endIndex
        else { return false }
        return utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f || $0 == 0x20 }
    }
}
