/// The names a job's uploaded files take in its step's outputs (`keel callback --resource NAME=PATH`, the
/// callback's `resources[].name`): one rule for the CLI that sends them and the gateway that takes them.
public enum CallbackResourceName {
    /// Longest accepted name, in characters.
    public static let maximumLength = 128

    /// The rule, as error messages state it.
    public static let rule = "1 to \(maximumLength) letters, digits, '_', '-' or '.'"

    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.count <= maximumLength
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                        || ("0"..."9").contains(scalar)
                        || scalar == "_" || scalar == "-" || scalar == ".")
            }
    }
}
