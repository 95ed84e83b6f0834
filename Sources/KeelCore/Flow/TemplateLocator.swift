/// Finds where inside the YAML text a template string starts, so an expression error can point at
/// the exact character rather than at the start of the scalar.
///
/// Works for scalars written on one line, plain or quoted without escapes (the common case); for
/// anything else (block scalars, folded lines, escapes) it returns nil and the error points at the
/// scalar.
enum TemplateLocator {
    /// The position of the template's `column` (1-based, in the template), or nil when the
    /// template is not written verbatim at `scalar`.
    static func position(
        ofColumn column: Int, in template: String, at scalar: SourcePosition, source: String
    ) -> SourcePosition? {
        guard scalar.line >= 1, scalar.column >= 1, column >= 1 else { return nil }
        var lineNumber = 1
        var lineStart = source.unicodeScalars.startIndex
        var index = source.unicodeScalars.startIndex
        while lineNumber < scalar.line {
            guard index < source.unicodeScalars.endIndex else { return nil }
            if source.unicodeScalars[index] == "\n" {
                lineNumber += 1
                lineStart = source.unicodeScalars.index(after: index)
            }
            index = source.unicodeScalars.index(after: index)
        }
        let line = source.unicodeScalars[lineStart...].prefix { $0 != "\n" }
        let written = Array(line.dropFirst(scalar.column - 1))
        let wanted = Array(template.unicodeScalars)
        guard let first = written.first else { return nil }
        let offset = first == "\"" || first == "'" ? 1 : 0
        guard written.count >= offset + wanted.count,
            Array(written[offset..<(offset + wanted.count)]) == wanted
        else { return nil }
        if offset == 1 {
            // The quote must close right after the text, and the text must hold no escapes.
            guard written.count > offset + wanted.count, written[offset + wanted.count] == first,
                !(first == "\"" && wanted.contains("\\")), !(first == "'" && wanted.contains("'"))
            else { return nil }
        }
        return SourcePosition(line: scalar.line, column: scalar.column + offset + column - 1)
    }
}
