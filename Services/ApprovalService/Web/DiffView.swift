/// A unified diff shown as a diff: one line per row, added lines green, removed lines red, hunk headers
/// and file headers set apart. Every line is escaped; nothing of the diff is interpreted as markup.
enum DiffView {
    /// Media types shown this way.
    static let mediaTypes: Set<String> = ["text/x-diff", "text/x-patch"]

    /// Whether content of `mediaType` (parameters such as `; charset=utf-8` ignored) is a diff.
    static func isDiff(mediaType: String) -> Bool {
        let essence = mediaType.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        return essence.map(mediaTypes.contains) ?? false
    }

    static func render(_ text: String) -> HTML {
        // A diff file ends with a newline; it ends the last line rather than starting an empty one.
        let body = text.hasSuffix("\n") ? text.dropLast() : Substring(text)
        let rows = body.split(separator: "\n", omittingEmptySubsequences: false).map { line -> HTML in
            let line = String(line.hasSuffix("\r") ? line.dropLast() : line)
            // Block-level spans (see PageLayout's style) make the lines; a newline between them would
            // add an empty line to the preformatted block.
            return "<span class=\"\(lineClass(line))\">\(line)</span>"
        }
        return "<pre class=\"diff\">\(rows)</pre>"
    }

    /// The CSS class of one line of a unified diff.
    static func lineClass(_ line: String) -> String {
        if line.hasPrefix("+++") || line.hasPrefix("---") || line.hasPrefix("diff ")
            || line.hasPrefix("index ")
        {
            return "diff-file"
        }
        if line.hasPrefix("@@") { return "diff-hunk" }
        if line.hasPrefix("+") { return "diff-added" }
        if line.hasPrefix("-") { return "diff-removed" }
        return "diff-context"
    }
}
