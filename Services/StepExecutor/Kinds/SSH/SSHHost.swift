import SSHClient

/// One host `ssh` steps may name, as declared in `KEEL_SSH_HOSTS`: where it is, whom to log in as,
/// which key to use and how its host key is checked.
struct SSHHost: Sendable, Hashable {
    /// Where the private key comes from: a secret (never on disk) or a file on the executor.
    enum Key: Sendable, Hashable {
        /// The value of `KEEL_SECRET_<NAME>`.
        case secret(String)
        case file(String)
    }

    var name: String
    var address: String
    var port: Int
    var user: String
    var key: Key
    /// The secret holding the key's passphrase, for an encrypted key.
    var passphraseSecret: String?
    var hostKey: SSHHostKeyPolicy

    /// The client configuration, the key and passphrase read from `secrets` now (so a rotated secret is
    /// used by the next attempt).
    func configuration(secrets: SecretSource, connectTimeout: Duration) throws(SSHHostsError)
        -> SSHConfiguration
    {
        var passphrase: String?
        if let passphraseSecret {
            guard let value = secrets.value(named: passphraseSecret) else {
                throw SSHHostsError(
                    host: name, field: "key_passphrase_secret",
                    message: "no secret \(SecretSource.environmentPrefix)\(passphraseSecret)")
            }
            passphrase = value
        }
        let identity: SSHIdentity
        switch key {
        case .secret(let secret):
            guard let pem = secrets.value(named: secret) else {
                throw SSHHostsError(
                    host: name, field: "key_secret",
                    message: "no secret \(SecretSource.environmentPrefix)\(secret)")
            }
            identity = .privateKey(pem, passphrase: passphrase)
        case .file(let path):
            identity = .privateKeyFile(path: path, passphrase: passphrase)
        }
        return SSHConfiguration(
            host: address, port: port, user: user, identity: identity, hostKey: hostKey,
            connectTimeout: connectTimeout)
    }
}
