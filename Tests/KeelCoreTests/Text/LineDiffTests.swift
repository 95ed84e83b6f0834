import KeelCore
import Testing

/// The line diff `keel flow diff` and the console's flow diff page share: hunks with three lines of
/// context, 1-based line numbers, a changed line as its removal then its addition.
@Suite struct LineDiffTests {
    @Test("equal texts have no diff")
    func equalTexts() {
        #expect(LineDiff.unified(old: "a\nb\n", new: "a\nb\n", oldLabel: "x", newLabel: "y") == "")
    }

    @Test("a changed line is removed, then added, within its context")
    func changedLine() {
        let old = (1...9).map { "line \($0)" }.joined(separator: "\n")
        let new = old.replacingOccurrences(of: "line 5", with: "line five")
        #expect(
            LineDiff.unified(old: old, new: new, oldLabel: "f v1", newLabel: "f v2")
                == """
                --- f v1
                +++ f v2
                @@ -2,7 +2,7 @@
                 line 2
                 line 3
                 line 4
                -line 5
                +line five
                 line 6
                 line 7
                 line 8
                """)
    }

    @Test("changes far apart make separate hunks; an added line at the end counts")
    func separateHunks() {
        let old = (1...20).map { "\($0)" }.joined(separator: "\n")
        var lines = (1...20).map { "\($0)" }
        lines[0] = "one"
        lines.append("21")
        let diff = LineDiff.unified(
            old: old, new: lines.joined(separator: "\n"), oldLabel: "a", newLabel: "b")
        let hunks = diff.split(separator: "\n").filter { $0.hasPrefix("@@") }
        #expect(hunks == ["@@ -1,4 +1,4 @@", "@@ -18,3 +18,4 @@"])
        #expect(
            LineDiff.edits(old: ["a", "b"], new: ["a", "c"]) == [.same("a"), .removed("b"), .added("c")])
    }
}
