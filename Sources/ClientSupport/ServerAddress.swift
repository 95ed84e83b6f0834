/// One server of a list a client may connect to: a PostgreSQL primary and its standbys, the nodes of
/// a RabbitMQ cluster.
public struct ServerAddress: Sendable, Hashable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Splits a URL whose authority names several servers, `scheme://user:pass@host1:port1,host2:port2/…`
    /// (the form libpq and RabbitMQ's clients document), into the URL with only the first one, which
    /// `URLComponents` can read, and the others in order. A URL with one server comes back as it is.
    /// Throws a sentence naming the bad entry (an empty host, a port outside 1…65535).
    public static func splitList(in url: String, defaultPort: Int) throws(ServerListError)
        -> (url: String, others: [ServerAddress])
    {
        guard let schemeEnd = url.firstRange(of: "://") else { return (url, []) }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let hostsStart =
            authority.lastIndex(of: "@").map { authority.index(after: $0) } ?? authority.startIndex
        let entries = authority[hostsStart...].split(separator: ",", omittingEmptySubsequences: false)
        guard entries.count > 1 else { return (url, []) }
        var others: [ServerAddress] = []
        for entry in entries.dropFirst() {
            var host = Substring(entry)
            var port = defaultPort
            if let colon = entry.lastIndex(of: ":"), !entry.hasSuffix("]") {
                guard let number = Int(entry[entry.index(after: colon)...]), (1...65535).contains(number)
                else {
                    throw ServerListError(
                        reason: "the port of server '\(entry)' must be a number from 1 to 65535")
                }
                host = entry[..<colon]
                port = number
            }
            if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
            guard !host.isEmpty else { throw ServerListError(reason: "an empty host in the server list") }
            others.append(ServerAddress(host: String(host), port: port))
        }
        return (String(url[..<hostsStart] + entries[0] + url[authorityEnd...]), others)
    }
}

/// Why a server list could not be read.
public struct ServerListError: Error, Sendable {
    public let reason: String
}
