/// How an ``SSHSession`` decides that it talks to the right server, before it authenticates.
///
/// There is no "accept anything" policy: an unknown or changed host key always refuses the connection
/// (``SSHError/Code/hostKeyUnknown`` or ``SSHError/Code/hostKeyMismatch``); nothing is ever prompted or added.
public enum SSHHostKeyPolicy: Sendable, Hashable {
    /// An OpenSSH known_hosts file; for a port other than 22 the entry is named `[host]:port`.
    /// Plain and hashed host names work; `@cert-authority` and `@revoked` lines are not understood by
    /// libssh2 1.10 and make the file unreadable.
    case knownHosts(path: String)
    /// One expected key, either as a public key line (`ssh-ed25519 AAAA...`, a comment may follow) or as
    /// its fingerprint (`SHA256:base64`, as `ssh-keygen -lf` prints it).
    case pinned(String)
}

extension SSHHostKeyPolicy: CustomStringConvertible {
    public var description: String {
        switch self {
        case .knownHosts(let path): "knownHosts(\(path))"
        case .pinned(let key): "pinned(\(key))"
        }
    }
}
