import KeelService
import Configuration
import Foundation
import KeelCore
import SSHClient

/// The hosts `ssh` steps may name (`ssh: {host: NAME}`), from the executor's `KEEL_SSH_HOSTS`: inline
/// JSON (a value starting with `{` or `[`) or the path of a JSON file. The JSON maps each host name to
///
///     {"address": "10.0.0.5", "port": 22, "user": "keel",
///      "key_secret": "GPU_KEY" | "key_file": "/etc/keel/id_ed25519", "key_passphrase_secret": "GPU_KEY_PASS",
///      "host_key": "ssh-ed25519 AAAA…" | "known_hosts": "/etc/keel/known_hosts"}
///
/// `port` defaults to 22; exactly one of `key_secret`/`key_file` and of `host_key`/`known_hosts` is
/// required: a host's key is always verified (DESIGN: no trust on first use).
struct SSHHosts: Sendable {
    static let setting = "KEEL_SSH_HOSTS"

    private let hosts: [String: SSHHost]

    init(_ hosts: [SSHHost] = []) {
        self.hosts = Dictionary(hosts.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// Reads `KEEL_SSH_HOSTS` through `reader`; no setting means no hosts.
    init(reader: ConfigReader) throws(SSHHostsError) {
        guard
            let value = reader.string(environmentName: Self.setting)?.trimmingCharacters(
                in: .whitespacesAndNewlines),
            !value.isEmpty
        else {
            self.init()
            return
        }
        if value.hasPrefix("{") || value.hasPrefix("[") {
            try self.init(json: Array(value.utf8))
        } else {
            guard let data = FileManager.default.contents(atPath: value) else {
                throw SSHHostsError(host: nil, field: nil, message: "cannot read the file \(value)")
            }
            try self.init(json: Array(data))
        }
    }

    /// Parses the JSON document described above.
    init(json bytes: [UInt8]) throws(SSHHostsError) {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: bytes)
        } catch {
            throw SSHHostsError(host: nil, field: nil, message: "not valid JSON: \(error)")
        }
        guard let object = document.objectValue else {
            throw SSHHostsError(
                host: nil, field: nil, message: "expected an object mapping host names to hosts")
        }
        var hosts: [SSHHost] = []
        for (name, value) in object {
            hosts.append(try Self.host(named: name, value))
        }
        self.init(hosts)
    }

    /// The host named `name`.
    func host(named name: String) throws(SSHHostsError) -> SSHHost {
        guard let host = hosts[name] else {
            let known = hosts.keys.sorted()
            throw SSHHostsError(
                host: name, field: nil,
                message: known.isEmpty
                    ? "no such host (no hosts are configured)"
                    : "no such host (known: \(known.joined(separator: ", ")))")
        }
        return host
    }

    var names: [String] { hosts.keys.sorted() }

    private static let fields: Set<String> = [
        "address", "port", "user", "key_secret", "key_file", "key_passphrase_secret", "host_key",
        "known_hosts",
    ]

    private static func host(named name: String, _ value: JSONValue) throws(SSHHostsError) -> SSHHost {
        guard !name.isEmpty else { throw SSHHostsError(host: name, field: nil, message: "empty host name") }
        guard let fields = value.objectValue else {
            throw SSHHostsError(host: name, field: nil, message: "expected an object")
        }
        for key in fields.keys where !Self.fields.contains(key) {
            throw SSHHostsError(
                host: name, field: key,
                message: "unknown field (expected \(Self.fields.sorted().joined(separator: ", ")))")
        }
        func string(_ field: String) throws(SSHHostsError) -> String? {
            guard let member = fields[field] else { return nil }
            guard let text = member.stringValue, !text.isEmpty else {
                throw SSHHostsError(host: name, field: field, message: "expected a non-empty string")
            }
            return text
        }
        guard let address = try string("address") else {
            throw SSHHostsError(host: name, field: "address", message: "required")
        }
        guard let user = try string("user") else {
            throw SSHHostsError(host: name, field: "user", message: "required")
        }
        var port = 22
        if let member = fields["port"] {
            guard let number = member.int64Value, (1...65_535).contains(number) else {
                throw SSHHostsError(host: name, field: "port", message: "expected an integer 1-65535")
            }
            port = Int(number)
        }
        let key: SSHHost.Key
        let keySecret = try string("key_secret")
        let keyFile = try string("key_file")
        switch (keySecret, keyFile) {
        case (let secret?, nil): key = .secret(secret)
        case (nil, let path?): key = .file(path)
        case (_?, _?):
            throw SSHHostsError(
                host: name, field: "key_secret", message: "give key_secret or key_file, not both")
        case (nil, nil):
            throw SSHHostsError(host: name, field: "key_secret", message: "required (or key_file)")
        }
        let hostKey: SSHHostKeyPolicy
        let pinned = try string("host_key")
        let knownHosts = try string("known_hosts")
        switch (pinned, knownHosts) {
        case (let key?, nil): hostKey = .pinned(key)
        case (nil, let path?): hostKey = .knownHosts(path: path)
        case (_?, _?):
            throw SSHHostsError(
                host: name, field: "host_key", message: "give host_key or known_hosts, not both")
        case (nil, nil):
            throw SSHHostsError(
                host: name, field: "host_key",
                message: "required (or known_hosts): host keys are always verified")
        }
        return SSHHost(
            name: name, address: address, port: port, user: user, key: key,
            passphraseSecret: try string("key_passphrase_secret"), hostKey: hostKey)
    }
}
