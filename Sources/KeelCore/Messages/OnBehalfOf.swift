/// The `keel-requester` header: the principal a trusted publisher starts a run for.
///
/// A trigger's requester is normally the principal its broker account maps to (the broker vouches for the
/// `user-id` property). The approval-service authenticates people by API token and publishes their
/// triggers from its own account; that account is marked `acts_for_others`, and only then does
/// trigger-intake take the requester from this header. From anyone else the header is refused.
public enum OnBehalfOf {
    public static let header = "keel-requester"

    /// The longest principal name a header may carry, as for tokens and publishers.
    public static let maximumLength = 128

    /// Why `value` cannot name a requester, or nil when it can.
    public static func problem(with value: String) -> String? {
        guard !value.isEmpty, value.utf8.count <= maximumLength else {
            return "expected 1 to \(maximumLength) bytes"
        }
        guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            return "expected no control characters"
        }
        return nil
    }
}
