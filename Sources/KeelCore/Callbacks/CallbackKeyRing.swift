import Foundation

/// The HMAC keys callback tokens are signed and verified with: several verify (so a key can be rotated
/// out while tokens signed with it are still alive), exactly one signs.
///
/// Configured as `KEEL_CALLBACK_KEYS=<id>:<base64 secret>,<id>:<base64 secret>` and
/// `KEEL_CALLBACK_SIGNING_KEY=<id>`. A secret must be at least 32 bytes.
public struct CallbackKeyRing: Sendable {
    public let signingKeyID: String
    let keys: [String: [UInt8]]

    public static let minimumKeyBytes = 32

    public init(keys: [String: [UInt8]], signingKeyID: String) throws(CallbackKeyRingError) {
        guard !keys.isEmpty else { throw .noKeys }
        for (id, secret) in keys {
            guard Self.isValidID(id) else { throw .invalidKeyID(id) }
            guard secret.count >= Self.minimumKeyBytes else { throw .keyTooShort(id) }
        }
        guard keys[signingKeyID] != nil else { throw .unknownSigningKey(signingKeyID) }
        self.keys = keys
        self.signingKeyID = signingKeyID
    }

    /// Reads `KEEL_CALLBACK_KEYS` and `KEEL_CALLBACK_SIGNING_KEY` (the first listed key signs when the
    /// latter is absent).
    public init(keysSetting: String, signingKeyID: String?) throws(CallbackKeyRingError) {
        var keys: [String: [UInt8]] = [:]
        var first: String?
        for entry in keysSetting.split(separator: ",") {
            let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let secret = Data(base64Encoded: String(parts[1])) else {
                throw .malformedSetting
            }
            let id = String(parts[0])
            keys[id] = Array(secret)
            first = first ?? id
        }
        try self.init(keys: keys, signingKeyID: signingKeyID ?? first ?? "")
    }

    func secret(_ id: String) -> [UInt8]? { keys[id] }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 32
            && id.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-")
            }
    }
}

/// Why a key ring could not be built; names the setting's problem, never a secret.
public enum CallbackKeyRingError: Error, Sendable, Hashable, CustomStringConvertible {
    case noKeys
    case malformedSetting
    case invalidKeyID(String)
    case keyTooShort(String)
    case unknownSigningKey(String)

    public var description: String {
        switch self {
        case .noKeys: "KEEL_CALLBACK_KEYS: expected at least one key"
        case .malformedSetting: "KEEL_CALLBACK_KEYS: expected <id>:<base64 secret>, comma-separated"
        case .invalidKeyID(let id):
            "KEEL_CALLBACK_KEYS: key id '\(id.prefix(32))' must be 1-32 letters, digits or '-'"
        case .keyTooShort(let id):
            "KEEL_CALLBACK_KEYS: key '\(id)' must be at least \(CallbackKeyRing.minimumKeyBytes) bytes"
        case .unknownSigningKey(let id):
            "KEEL_CALLBACK_SIGNING_KEY: no key '\(id.prefix(32))' in KEEL_CALLBACK_KEYS"
        }
    }
}
