/// Builds field paths for messages: `steps[2].retry.backoff`, `run.env["MY.VAR"]`.
enum FlowPath {
    static func child(_ path: String, _ key: String) -> String {
        let simple =
            !key.isEmpty
            && key.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
                    || $0 == "-" || $0 == "$"
            }
        let component = simple ? key : "[\"\(FlowError.quoted(key).replacingQuotes())\"]"
        if path.isEmpty { return simple ? key : component }
        return simple ? path + "." + key : path + component
    }

    static func index(_ path: String, _ index: Int) -> String {
        path + "[\(index)]"
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var result = ""
        for character in self {
            if character == "\"" || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result
    }
}

/// Simple ASCII name rules (`^[a-z][a-z0-9_-]{0,63}$` and kin), checked without regex.
struct NamePattern: Sendable {
    var first: @Sendable (Unicode.Scalar) -> Bool
    var rest: @Sendable (Unicode.Scalar) -> Bool
    var maximumLength: Int

    func matches(_ text: String) -> Bool {
        var count = 0
        for scalar in text.unicodeScalars {
            count += 1
            if count > maximumLength { return false }
            if !(count == 1 ? first(scalar) : rest(scalar)) { return false }
        }
        return count > 0
    }

    private static func lower(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) }
    private static func upper(_ s: Unicode.Scalar) -> Bool { ("A"..."Z").contains(s) }
    private static func digit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }

    /// Flow names: `^[a-z0-9][a-z0-9._-]{0,127}$`.
    static let flowName = NamePattern(
        first: { lower($0) || digit($0) },
        rest: { lower($0) || digit($0) || $0 == "." || $0 == "_" || $0 == "-" },
        maximumLength: 128)
    /// Step ids, output and parameter names: `^[a-z][a-z0-9_-]{0,63}$`.
    static let stepID = NamePattern(
        first: { lower($0) }, rest: { lower($0) || digit($0) || $0 == "_" || $0 == "-" }, maximumLength: 64)
    /// Environment variable names: `^[A-Za-z_][A-Za-z0-9_]{0,127}$`.
    static let environmentName = NamePattern(
        first: { lower($0) || upper($0) || $0 == "_" },
        rest: { lower($0) || upper($0) || digit($0) || $0 == "_" },
        maximumLength: 128)
    /// HTTP header names (RFC 9110 tokens), up to 128 characters.
    static let headerName = NamePattern(
        first: { isToken($0) }, rest: { isToken($0) }, maximumLength: 128)
    /// Users, groups and pool labels: `^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$`.
    static let principal = NamePattern(
        first: { lower($0) || upper($0) || digit($0) },
        rest: { lower($0) || upper($0) || digit($0) || $0 == "." || $0 == "_" || $0 == "@" || $0 == "-" },
        maximumLength: 128)

    private static func isToken(_ s: Unicode.Scalar) -> Bool {
        lower(s) || upper(s) || digit(s) || "!#$%&'*+-.^_`|~".unicodeScalars.contains(s)
    }
}

/// "Did you mean" for unknown fields: the closest allowed name within a small edit distance.
enum Suggestion {
    static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = max(1, min(3, word.count / 3))
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(
                Array(word.lowercased().unicodeScalars), Array(candidate.unicodeScalars))
            if distance <= limit, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    /// Levenshtein distance with adjacent transpositions (`nedes` → `needs` is one edit).
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previousPrevious[j - 2] + 1)
                }
            }
            (previousPrevious, previous, current) = (previous, current, previousPrevious)
        }
        return previous[b.count]
    }
}
