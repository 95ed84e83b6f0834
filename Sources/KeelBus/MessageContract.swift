public import AMQPClient

/// The contract version every Keel message declares in its `keel-schema` header (DESIGN §4), and the
/// versions this build reads.
///
/// Services of two releases run side by side during a rolling upgrade, so a consumer may meet a message
/// written for a contract it does not know. It must not guess at it: such a delivery is refused,
/// answered where it has a `reply_to` and dead-lettered with the version in its reason, before any
/// handler reads its body. A message without the header is read as version 1, which is what people
/// publishing triggers by hand send.
public enum MessageContract {
    public static let header = "keel-schema"
    /// The version this build writes.
    public static let current = "1"
    /// The versions this build reads.
    public static let understood: Set<String> = ["1"]

    /// Nil when this build reads the delivery's version; otherwise why it is refused.
    public static func refusal(for properties: AMQPProperties) -> String? {
        guard let declared = properties.headers[header] else { return nil }
        guard let version = declared.stringValue ?? declared.intValue.map(String.init) else {
            return "the \(header) header is not a version"
        }
        guard understood.contains(version) else {
            let known = understood.sorted().joined(separator: ", ")
            // The declared text is the publisher's: only a bounded, printable copy is repeated.
            let shown = String(
                version.unicodeScalars.prefix(16).filter { $0.value >= 0x20 && $0.value < 0x7F }.map(
                    Character.init))
            return "contract version \(header) '\(shown)' is not one this consumer reads (\(known))"
        }
        return nil
    }
}
