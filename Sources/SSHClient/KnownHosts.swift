import CLibSSH2

/// An OpenSSH known_hosts file loaded into libssh2's known-host store for one session.
///
/// Used only on its session's queue, and freed before the session it was made from.
final class KnownHosts {
    enum Verdict {
        case match
        case mismatch
        case notFound
        case failure
    }

    private let store: OpaquePointer

    /// nil with libssh2's error left on the session when the file cannot be read or parsed.
    init?(session: OpaquePointer, path: String) {
        guard let store = libssh2_knownhost_init(session) else { return nil }
        guard libssh2_knownhost_readfile(store, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH) >= 0 else {
            libssh2_knownhost_free(store)
            return nil
        }
        self.store = store
    }

    deinit { libssh2_knownhost_free(store) }

    /// The key kinds recorded for `host` under the names libssh2's check looks at: `[host]:port`, then
    /// the plain host. Hashed entries cannot be listed and are left out (they still count when checking).
    func kinds(host: String, port: Int) -> [HostKeyKind] {
        let names = ["[\(host)]:\(port)", host]
        var kinds: [HostKeyKind] = []
        var previous: UnsafeMutablePointer<libssh2_knownhost>?
        var entry: UnsafeMutablePointer<libssh2_knownhost>?
        while libssh2_knownhost_get(store, &entry, previous) == 0, let current = entry {
            if let name = current.pointee.name, names.contains(String(cString: name)),
                let kind = HostKeyKind(knownHostMask: current.pointee.typemask), !kinds.contains(kind)
            {
                kinds.append(kind)
            }
            previous = current
        }
        return kinds
    }

    func check(host: String, port: Int, key: ServerHostKey) -> Verdict {
        guard let kind = key.kind else { return .notFound }
        let typemask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kind.knownHostMask
        let result = key.blob.withUnsafeBufferPointer { blob in
            blob.withMemoryRebound(to: CChar.self) { bytes in
                libssh2_knownhost_checkp(
                    store, host, Int32(port), bytes.baseAddress, bytes.count, typemask, nil)
            }
        }
        switch result {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: return .mismatch
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND: return .notFound
        default: return .failure
        }
    }
}
