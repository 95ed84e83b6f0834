/// A failure of an ``SSHSession``: what went wrong (``code``), Keel's account of it, libssh2's own text,
/// and the command involved.
///
/// Neither the message nor the description ever contains key material, passphrases or the values of
/// environment variables passed to a command.
public struct SSHError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure, to branch on.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// No TCP connection or no SSH handshake could be made (refused, unreachable, not an SSH server).
        public static let connectionFailed = Code("connectionFailed")
        /// The session was closed with ``SSHSession/close()`` or the server dropped the connection.
        public static let connectionClosed = Code("connectionClosed")
        /// The host key policy has no key for this host; nothing was authenticated.
        public static let hostKeyUnknown = Code("hostKeyUnknown")
        /// The server's host key differs from the expected one; nothing was authenticated.
        public static let hostKeyMismatch = Code("hostKeyMismatch")
        /// The server did not accept the key for this user.
        public static let authenticationFailed = Code("authenticationFailed")
        /// The private key could not be read or decrypted (missing file, wrong passphrase, unsupported format).
        public static let identityUnusable = Code("identityUnusable")
        /// The connect timeout or a command timeout expired.
        public static let timeout = Code("timeout")
        /// The server refused to open a channel or to run the command.
        public static let channelFailed = Code("channelFailed")
        /// The SSH conversation itself failed (key exchange, unexpected packets, decryption).
        public static let protocolError = Code("protocolError")
        /// An argument cannot be used, e.g. an environment variable name that is not a shell identifier.
        public static let invalidArgument = Code("invalidArgument")
        /// A helper command Keel runs remotely (detaching, signalling) failed; the message has its stderr.
        public static let remoteCommandFailed = Code("remoteCommandFailed")
    }

    public var code: Code
    /// What Keel's client was doing and what went wrong.
    public var message: String
    /// libssh2's error text and number, when libssh2 reported the failure.
    public var libssh2Message: String?
    public var libssh2Code: Int32?
    /// The server, as configured.
    public var host: String
    public var port: Int
    /// The command as the caller gave it, without the environment, when the failure concerned a command.
    public var command: String?

    public init(
        code: Code, message: String, host: String, port: Int, command: String? = nil,
        libssh2Message: String? = nil, libssh2Code: Int32? = nil
    ) {
        self.code = code
        self.message = message
        self.host = host
        self.port = port
        self.command = command
        self.libssh2Message = libssh2Message
        self.libssh2Code = libssh2Code
    }

    public var description: String {
        var text = "SSHError(\(code)) \(host):\(port): \(message)"
        if let libssh2Message, !libssh2Message.isEmpty {
            text += " (libssh2 \(libssh2Code.map(String.init) ?? "error"): \(libssh2Message))"
        }
        if let command { text += " [command: \(command)]" }
        return text
    }
}
