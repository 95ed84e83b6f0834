/// Measures, before any YAML parser runs, an upper bound of a document's nesting depth.
///
/// Yams composes recursively, so a document nested a hundred thousand levels deep would overflow
/// the stack inside it. This scan counts block levels by indentation (plus compact `- ` and `? `
/// indicators on a line) and flow levels by unquoted `[` and `{`. It may overestimate, never
/// underestimate by more than a level per line, and runs in one pass over the text.
enum NestingBound {
    /// The first position where the bound exceeds `limit`, or nil when the text stays within it.
    static func firstPositionDeeper(than limit: Int, in text: String) -> SourcePosition? {
        var scanner = Scanner()
        var lineNumber = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if let column = scanner.scan(Array(line), limit: limit) {
                return SourcePosition(line: lineNumber, column: column)
            }
        }
        return nil
    }

    private struct Scanner {
        var indents: [Int] = []
        var flowDepth = 0
        var quote: UInt8?
        var blockScalarParentIndent: Int?

        /// Scans one line; returns the 1-based column where the bound is exceeded.
        mutating func scan(_ line: [UInt8], limit: Int) -> Int? {
            let space = UInt8(ascii: " ")
            let indent = line.prefix(while: { $0 == space }).count
            let isBlank = line.allSatisfy {
                $0 == space || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r")
            }
            if let parent = blockScalarParentIndent {
                if isBlank || indent > parent { return nil }
                blockScalarParentIndent = nil
            }
            var blockDepth = indents.count
            var index = indent
            if quote == nil && flowDepth == 0 {
                if isBlank || line[indent] == UInt8(ascii: "#") { return nil }
                while let last = indents.last, last > indent { indents.removeLast() }
                if indents.last != indent { indents.append(indent) }
                blockDepth = indents.count + 1
                // Compact nested collections on one line: `- - - x`, `? - x`.
                while index < line.count,
                    line[index] == UInt8(ascii: "-") || line[index] == UInt8(ascii: "?"),
                    index + 1 == line.count || line[index + 1] == space
                {
                    blockDepth += 1
                    index += 1
                    while index < line.count && line[index] == space { index += 1 }
                }
                if blockDepth > limit { return index + 1 }
            }
            var previous: UInt8 = space
            var contentEnd = line.count
            while index < line.count {
                let byte = line[index]
                defer {
                    previous = byte
                    index += 1
                }
                if let open = quote {
                    if open == UInt8(ascii: "\"") && byte == UInt8(ascii: "\\") {
                        index += 1
                    } else if byte == open {
                        if open == UInt8(ascii: "'") && index + 1 < line.count && line[index + 1] == open {
                            index += 1
                        } else {
                            quote = nil
                        }
                    }
                    continue
                }
                let afterSpace = previous == space || previous == UInt8(ascii: "\t")
                let atTokenStart =
                    afterSpace || previous == UInt8(ascii: "[") || previous == UInt8(ascii: "{")
                    || previous == UInt8(ascii: ",") || flowDepth > 0
                if byte == UInt8(ascii: "#") && afterSpace {
                    contentEnd = index
                    break
                } else if (byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"")) && atTokenStart {
                    quote = byte
                } else if (byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{")) && atTokenStart {
                    flowDepth += 1
                    if blockDepth + flowDepth > limit { return index + 1 }
                } else if (byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}")) && flowDepth > 0 {
                    flowDepth -= 1
                }
            }
            if quote == nil && flowDepth == 0 && Self.endsWithBlockScalarHeader(line[..<contentEnd]) {
                blockScalarParentIndent = indent
            }
            return nil
        }

        /// Whether the line ends in `|` or `>` with optional indicators (`|-`, `>2`, `|+`).
        static func endsWithBlockScalarHeader(_ content: ArraySlice<UInt8>) -> Bool {
            var trimmed = content
            while let last = trimmed.last,
                last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") || last == UInt8(ascii: "\r")
            {
                trimmed.removeLast()
            }
            var indicators = 0
            while let last = trimmed.last, indicators < 2,
                last == UInt8(ascii: "+") || last == UInt8(ascii: "-")
                    || (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(last)
            {
                trimmed.removeLast()
                indicators += 1
            }
            guard let header = trimmed.last, header == UInt8(ascii: "|") || header == UInt8(ascii: ">") else {
                return false
            }
            trimmed.removeLast()
            guard let before = trimmed.last else { return true }
            return before == UInt8(ascii: " ") || before == UInt8(ascii: "\t")
        }
    }
}
