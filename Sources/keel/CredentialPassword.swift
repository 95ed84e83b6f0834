import Foundation
import KeelCore

/// The password `keel role add` and `keel broker user` set: read from `--password-file` (one line, for
/// deployment tools that hold it), or generated (24 random bytes, base64url) and printed once by the
/// command. A password with U+0000 or a line break inside is refused: neither PostgreSQL nor
/// rabbitmqctl's standard input can take it whole.
struct CredentialPassword {
    var value: String
    /// True when generated here, so the command prints it once.
    var generated: Bool

    static func resolve(file: String?, output: CLIOutput) throws -> CredentialPassword {
        guard let file else {
            var random = SystemRandomNumberGenerator()
            return CredentialPassword(
                value: SecretBytes.base64URL((0..<24).map { _ in UInt8.random(in: 0...255, using: &random) }),
                generated: true)
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw output.fail(.user("cannot read --password-file \(file)"))
        }
        let value = text.trimmingCharacters(in: .newlines)
        guard !value.isEmpty, !value.contains("\0"), !value.contains(where: \.isNewline) else {
            throw output.fail(.user("--password-file \(file) holds no usable password"))
        }
        return CredentialPassword(value: value, generated: false)
    }
}
