import KeelCore
import Testing

/// The streaming redactor: the same output however the input is chunked, and no secret left in it.
@Suite struct SecretRedactorTests {
    func redact(_ chunks: [[UInt8]], _ redactor: SecretRedactor) -> String {
        var redactor = redactor
        var output: [UInt8] = []
        for chunk in chunks { output += redactor.redact(chunk) }
        output += redactor.finish()
        return String(decoding: output, as: UTF8.self)
    }

    @Test func masksEveryOccurrenceIncludingAdjacentAndOverlappingOnes() {
        let redactor = SecretRedactor(secrets: ["secret", "secretive", "cre", "", "ab"])
        #expect(redactor.redacting("a secret, a secretive secretsecret") == "a ***, a *** ******")
        #expect(redactor.redacting("ab is too short to redact") == "ab is too short to redact")
        #expect(redactor.redacting("sécret decree") == "sé***t de***e")
        #expect(redactor.maximumHeldBytes == 8)
        #expect(SecretRedactor(secrets: []).redacting("nothing") == "nothing")
    }

    @Test func aSecretIsMaskedInItsJSONStringFormToo() {
        let secret = #"pa"ss\word"#
        let redactor = SecretRedactor(secrets: [secret])
        let json = #"{"result":"the key is pa\"ss\\word."}"#
        #expect(redactor.redacting(json) == #"{"result":"the key is ***."}"#)
        #expect(redactor.redacting("raw: " + secret) == "raw: ***")
        // Split anywhere, the escaped form is still found.
        let bytes = Array(json.utf8)
        #expect(
            redact([Array(bytes[..<27]), Array(bytes[27...])], redactor) == #"{"result":"the key is ***."}"#)
    }

    @Test func holdsBackOnlyWhatMightStillBecomeASecret() {
        var redactor = SecretRedactor(secrets: ["password"])
        #expect(redactor.redact(Array("my pass".utf8)) == Array("my ".utf8))
        #expect(redactor.redact(Array("port".utf8)) == Array("passport".utf8))
        #expect(redactor.redact(Array(" passw".utf8)) == Array(" ".utf8))
        #expect(redactor.redact(Array("ord!".utf8)) == Array("***!".utf8))
        #expect(redactor.redact(Array("pas".utf8)) == [])
        #expect(redactor.finish() == Array("pas".utf8))
    }

    @Test func randomChunkingsGiveTheOneShotResultAndNeverLeakASecret() {
        var random = SplitMix64(seed: 0x5EC2E7)
        let alphabet = Array("abcxyz \n=".utf8)
        for round in 0..<300 {
            let secretCount = Int.random(in: 1...4, using: &random)
            let secrets = (0..<secretCount).map { _ in
                String(
                    decoding: (0..<Int.random(in: 3...12, using: &random)).map { _ in
                        alphabet[Int.random(in: 0..<6, using: &random)]
                    }, as: UTF8.self)
            }
            var text: [UInt8] = []
            for _ in 0..<Int.random(in: 0...40, using: &random) {
                if Bool.random(using: &random) {
                    text += Array(secrets[Int.random(in: 0..<secrets.count, using: &random)].utf8)
                } else {
                    text += (0..<Int.random(in: 1...6, using: &random)).map { _ in
                        alphabet[Int.random(in: 0..<alphabet.count, using: &random)]
                    }
                }
            }
            let redactor = SecretRedactor(secrets: secrets)
            let oneShot = redact([text], redactor)
            var chunks: [[UInt8]] = []
            var start = 0
            while start < text.count {
                let end = min(text.count, start + Int.random(in: 1...9, using: &random))
                chunks.append(Array(text[start..<end]))
                start = end
            }
            #expect(redact(chunks, redactor) == oneShot, "round \(round)")
            #expect(redact(text.map { [$0] }, redactor) == oneShot, "round \(round)")
            // Masking cannot create a secret from its neighbours here ('*' is not in the alphabet), so
            // none may be left.
            for secret in secrets { #expect(!oneShot.contains(secret), "round \(round): \(secret)") }
        }
    }
}
