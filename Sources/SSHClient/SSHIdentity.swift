/// The private key an ``SSHSession`` authenticates with (public-key authentication only).
///
/// ed25519 and ECDSA keys work in OpenSSH or PEM format, encrypted or not. RSA keys do not work against
/// OpenSSH 8.8 and later: libssh2 1.10 signs with SHA-1 ("ssh-rsa"), which those servers refuse.
/// Descriptions and mirrors redact the key text and the passphrase.
public enum SSHIdentity: Sendable {
    /// A private key file on this machine; the public key is derived from it.
    case privateKeyFile(path: String, passphrase: String? = nil)
    /// Private key text (OpenSSH or PEM), e.g. read from a secret store, so it never touches the disk.
    case privateKey(String, passphrase: String? = nil)
}

extension SSHIdentity: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        switch self {
        case .privateKeyFile(let path, let passphrase):
            "privateKeyFile(path: \(path)\(passphrase == nil ? "" : ", passphrase: <redacted>"))"
        case .privateKey(_, let passphrase):
            "privateKey(<redacted>\(passphrase == nil ? "" : ", passphrase: <redacted>"))"
        }
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["identity": description]) }
}
