/// TLS for `amqps://` connections: what the broker's certificate is checked against, and the client's own
/// certificate when the broker asks for one.
///
/// By default the broker must present a certificate that chains to `caCertificatePath` (the system's
/// authorities when nil) and names the host connected to; turning either check off is for tests only,
/// as it lets anyone on the path read the connection's password.
public struct AMQPTLS: Sendable, Hashable {
    /// PEM file of the authorities the broker's certificate must chain to.
    public var caCertificatePath: String?
    /// PEM file of the client's certificate, for brokers that verify clients (`ssl_options.verify`).
    public var certificatePath: String?
    /// PEM file of the client certificate's private key (default: `certificatePath`).
    public var keyPath: String?
    /// Whether the broker's certificate must chain to a trusted authority.
    public var verifyPeer: Bool
    /// Whether the broker's certificate must name the host connected to.
    public var verifyHostname: Bool

    public init(
        caCertificatePath: String? = nil, certificatePath: String? = nil, keyPath: String? = nil,
        verifyPeer: Bool = true, verifyHostname: Bool = true
    ) {
        self.caCertificatePath = caCertificatePath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.verifyPeer = verifyPeer
        self.verifyHostname = verifyHostname
    }
}
