/// Replaces every occurrence of secret values in a byte stream with a mask, chunk by chunk (DESIGN §5,
/// invariant 9: secrets resolved during a run never reach a stored log).
///
/// An occurrence split across chunks is still found: the redactor holds back a tail of at most
/// `longest secret - 1` bytes while it might be the start of a secret, and releases it once the next
/// chunk (or `finish()`) decides. The output is therefore the same however the input is chunked. Where
/// secrets overlap, the longest one starting leftmost wins.
///
/// Each secret is also masked in its JSON-string form (`a"b` as `a\"b`), so a secret a program wrote
/// into JSON is masked in the bytes, before anything decodes them.
///
/// Feed chunks with `redact(_:)`, then call `finish()` once for the held tail.
public struct SecretRedactor: Sendable {
    /// What each occurrence becomes.
    public let mask: [UInt8]
    private let secrets: [[UInt8]]
    private let startsSecret: [Bool]
    private var pending: [UInt8] = []

    public static let defaultMask = Array("***".utf8)

    /// Secrets shorter than this are not redacted: masking every "a" or "1" would destroy a log without
    /// protecting anything.
    public static let minimumSecretLength = 3

    /// A redactor for the UTF-8 bytes of `secrets`; empty and too-short values are ignored.
    public init(secrets: some Sequence<String>, mask: [UInt8] = SecretRedactor.defaultMask) {
        var unique = Set<[UInt8]>()
        for secret in secrets where secret.utf8.count >= Self.minimumSecretLength {
            unique.insert(Array(secret.utf8))
            // A secret with a quote, backslash or control character is written differently inside a
            // JSON string (a tool's JSON transcript, a JSON output): that form is masked too.
            unique.insert(Self.jsonEscaped(secret))
        }
        // Longest first, so the first full match at a position is the longest one.
        self.secrets = unique.sorted {
            $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1)
        }
        var starts = [Bool](repeating: false, count: 256)
        for secret in self.secrets { starts[Int(secret[0])] = true }
        startsSecret = starts
        self.mask = mask
    }

    /// The bytes of `secret` as they stand between the quotes of a JSON string.
    static func jsonEscaped(_ secret: String) -> [UInt8] {
        Array(JSONValue.string(secret).jsonString(.compact).utf8.dropFirst().dropLast())
    }

    /// Whether there is anything to redact.
    public var isEmpty: Bool { secrets.isEmpty }

    /// Bytes held back at most between calls.
    public var maximumHeldBytes: Int { max((secrets.first?.count ?? 1) - 1, 0) }

    /// Redacts the next chunk; returns what can be released now (possibly less than was fed).
    public mutating func redact(_ chunk: [UInt8]) -> [UInt8] {
        guard !secrets.isEmpty else { return chunk }
        let input: [UInt8]
        if pending.isEmpty {
            input = chunk
        } else {
            input = pending + chunk
        }
        let (output, held) = scan(input, final: false)
        pending = held
        return output
    }

    /// Releases the held tail at the end of the stream.
    public mutating func finish() -> [UInt8] {
        let (output, _) = scan(pending, final: true)
        pending = []
        return output
    }

    /// Redacts a whole value at once.
    public func redacting(_ text: String) -> String {
        var copy = self
        let bytes = copy.redact(Array(text.utf8)) + copy.finish()
        return String(decoding: bytes, as: UTF8.self)
    }

    private enum Match {
        case full(Int)
        case undecided
        case none
    }

    /// The longest secret matching at `index`, or `.undecided` when a longer one might still match once
    /// more input arrives.
    private func match(in input: [UInt8], at index: Int, final: Bool) -> Match {
        var best: Int?
        for secret in secrets where secret[0] == input[index] {
            let available = input.count - index
            if available >= secret.count {
                if best == nil && input[index..<(index + secret.count)].elementsEqual(secret) {
                    best = secret.count
                }
            } else if !final && best == nil && input[index...].elementsEqual(secret[0..<available]) {
                // A secret longer than any full match so far could still complete.
                return .undecided
            }
        }
        return best.map(Match.full) ?? .none
    }

    private func scan(_ input: [UInt8], final: Bool) -> (output: [UInt8], held: [UInt8]) {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var index = 0
        while index < input.count {
            guard startsSecret[Int(input[index])] else {
                output.append(input[index])
                index += 1
                continue
            }
            switch match(in: input, at: index, final: final) {
            case .full(let length):
                output.append(contentsOf: mask)
                index += length
            case .undecided:
                return (output, Array(input[index...]))
            case .none:
                output.append(input[index])
                index += 1
            }
        }
        return (output, [])
    }
}
