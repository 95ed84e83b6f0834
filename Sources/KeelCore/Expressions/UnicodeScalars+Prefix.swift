extension Array where Element == Unicode.Scalar {
    /// True when `pattern`'s scalars start at `offset`: how template scanners spot `${{` and `$${{`.
    func hasPrefix(_ pattern: String, at offset: Int) -> Bool {
        var index = offset
        for scalar in pattern.unicodeScalars {
            guard index < count, self[index] == scalar else { return false }
            index += 1
        }
        return true
    }
}
