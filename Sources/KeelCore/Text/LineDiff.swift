/// A unified diff of two texts, line by line, with three lines of context — what `diff -u` prints.
/// Shared by `keel flow diff` and the console's flow diff page, so both show the same diff.
public enum LineDiff {
    public enum Edit: Sendable, Equatable {
        case same(String)
        case removed(String)
        case added(String)
    }

    /// The edit script turning `old` into `new` (longest common subsequence of lines).
    public static func edits(old: [String], new: [String]) -> [Edit] {
        let n = old.count
        let m = new.count
        // lcs[i][j]: length of the LCS of old[i...] and new[j...].
        var lcs = Array(repeating: Array(repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lcs[i][j] = old[i] == new[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var edits: [Edit] = []
        var i = 0
        var j = 0
        while i < n || j < m {
            if i < n, j < m, old[i] == new[j] {
                edits.append(.same(old[i]))
                i += 1
                j += 1
            } else if i < n, j == m || lcs[i + 1][j] >= lcs[i][j + 1] {
                // Removals before additions where either keeps the LCS, as `diff -u` prints a change.
                edits.append(.removed(old[i]))
                i += 1
            } else {
                edits.append(.added(new[j]))
                j += 1
            }
        }
        return edits
    }

    /// The unified diff, or "" when the texts are equal.
    public static func unified(old: String, new: String, oldLabel: String, newLabel: String, context: Int = 3)
        -> String
    {
        let oldLines = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let newLines = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let script = edits(old: oldLines, new: newLines)
        let changed = script.indices.filter { index in
            if case .same = script[index] { false } else { true }
        }
        guard !changed.isEmpty else { return "" }

        // Group changes whose context overlaps into hunks.
        var hunks: [ClosedRange<Int>] = []
        for index in changed {
            let range = max(0, index - context)...min(script.count - 1, index + context)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                hunks.append(range)
            }
        }
        var output = ["--- \(oldLabel)", "+++ \(newLabel)"]
        for hunk in hunks {
            // Line numbers (1-based) where the hunk starts in each text.
            let before = script[..<hunk.lowerBound]
            let oldStart = before.filter { if case .added = $0 { false } else { true } }.count + 1
            let newStart = before.filter { if case .removed = $0 { false } else { true } }.count + 1
            let body = script[hunk]
            let oldCount = body.filter { if case .added = $0 { false } else { true } }.count
            let newCount = body.filter { if case .removed = $0 { false } else { true } }.count
            output.append("@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@")
            for edit in body {
                switch edit {
                case .same(let line): output.append(" " + line)
                case .removed(let line): output.append("-" + line)
                case .added(let line): output.append("+" + line)
                }
            }
        }
        return output.joined(separator: "\n")
    }
}
