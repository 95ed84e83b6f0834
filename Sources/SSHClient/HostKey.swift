import CLibSSH2

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The kinds of host key Keel accepts, with their names in the three vocabularies that meet here:
/// OpenSSH key lines, SSH host key algorithms, and libssh2's type numbers and known-host masks.
enum HostKeyKind: CaseIterable {
    case ed25519
    case ecdsa256
    case ecdsa384
    case ecdsa521
    case rsa

    /// The key type as written in key lines and known_hosts files.
    var name: String {
        switch self {
        case .ed25519: "ssh-ed25519"
        case .ecdsa256: "ecdsa-sha2-nistp256"
        case .ecdsa384: "ecdsa-sha2-nistp384"
        case .ecdsa521: "ecdsa-sha2-nistp521"
        case .rsa: "ssh-rsa"
        }
    }

    /// The host key algorithms that produce this kind of key, in order of preference.
    var algorithms: [String] {
        switch self {
        case .rsa: ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
        default: [name]
        }
    }

    var knownHostMask: Int32 {
        switch self {
        case .ed25519: LIBSSH2_KNOWNHOST_KEY_ED25519
        case .ecdsa256: LIBSSH2_KNOWNHOST_KEY_ECDSA_256
        case .ecdsa384: LIBSSH2_KNOWNHOST_KEY_ECDSA_384
        case .ecdsa521: LIBSSH2_KNOWNHOST_KEY_ECDSA_521
        case .rsa: LIBSSH2_KNOWNHOST_KEY_SSHRSA
        }
    }

    init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    init?(knownHostMask: Int32) {
        let key = knownHostMask & LIBSSH2_KNOWNHOST_KEY_MASK
        guard let kind = Self.allCases.first(where: { $0.knownHostMask == key }) else { return nil }
        self = kind
    }

    init?(libssh2Type: Int32) {
        switch libssh2Type {
        case LIBSSH2_HOSTKEY_TYPE_ED25519: self = .ed25519
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: self = .ecdsa256
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: self = .ecdsa384
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: self = .ecdsa521
        case LIBSSH2_HOSTKEY_TYPE_RSA: self = .rsa
        default: return nil
        }
    }

    /// The host key algorithm preference for the handshake: the kinds we can verify first, so that a
    /// server with several host keys presents one the policy knows, then every other supported kind.
    static func algorithmPreference(preferring preferred: [HostKeyKind]) -> String {
        var order: [HostKeyKind] = []
        for kind in preferred + allCases where !order.contains(kind) { order.append(kind) }
        return order.flatMap(\.algorithms).joined(separator: ",")
    }
}

/// The key a server presented in the handshake.
struct ServerHostKey {
    let kind: HostKeyKind?
    /// The raw public key blob, as sent on the wire.
    let blob: [UInt8]
    /// SHA-256 of the blob.
    let sha256: [UInt8]

    /// OpenSSH's fingerprint form, `SHA256:` and unpadded base64.
    var fingerprint: String { "SHA256:" + Self.unpadded(Data(sha256).base64EncodedString()) }

    /// The key as a key line without comment, e.g. `ssh-ed25519 AAAA...`.
    var keyLine: String { "\(kind?.name ?? "unknown") \(Data(blob).base64EncodedString())" }

    static func unpadded(_ base64: String) -> String {
        var text = base64
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }
}

/// The expected key of ``SSHHostKeyPolicy/pinned(_:)``, parsed.
enum PinnedHostKey {
    /// Unpadded base64 of the SHA-256 of the key blob.
    case fingerprint(String)
    case key(kind: HostKeyKind?, blob: [UInt8])

    /// nil when the text is neither `SHA256:...` nor `type base64 [comment]`.
    init?(_ text: String) {
        let trimmed = String(
            text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        if trimmed.hasPrefix("SHA256:") {
            let value = ServerHostKey.unpadded(String(trimmed.dropFirst("SHA256:".count)))
            guard !value.isEmpty, Data(base64Encoded: Self.padded(value)) != nil else { return nil }
            self = .fingerprint(value)
            return
        }
        let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2, let blob = Data(base64Encoded: String(fields[1])), !blob.isEmpty else {
            return nil
        }
        self = .key(kind: HostKeyKind(name: String(fields[0])), blob: [UInt8](blob))
    }

    var preferredKind: HostKeyKind? {
        if case .key(let kind, _) = self { return kind }
        return nil
    }

    func matches(_ key: ServerHostKey) -> Bool {
        switch self {
        case .fingerprint(let expected):
            expected == ServerHostKey.unpadded(Data(key.sha256).base64EncodedString())
        case .key(_, let blob):
            blob == key.blob
        }
    }

    private static func padded(_ base64: String) -> String {
        base64 + String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
    }
}
