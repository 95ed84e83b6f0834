/// Token names and groups follow the flow language's principal names (`approvers: [ana, "group:NAME"]`),
/// so a token can be listed as an approver: `^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$`.
public enum PrincipalName {
    public static func isValid(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, scalars.count <= 128, isAlphanumeric(first) else { return false }
        return scalars.dropFirst().allSatisfy { isAlphanumeric($0) || "._@-".unicodeScalars.contains($0) }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
