import Foundation
import KeelCore
import Testing

/// Callback tokens (DESIGN invariant 7): only the keys' holder can mint one; a changed byte, an unknown
/// key, another audience or a passed expiry is refused; a rotated-out signing key still verifies.
@Suite struct CallbackTokenTests {
    static let old = Array(repeating: UInt8(7), count: 32)
    static let new = Array(repeating: UInt8(9), count: 32)

    func claims(expires: Int64 = 4_000_000_000) -> CallbackClaims {
        CallbackClaims(
            run: .fixture(1), step: "bench", attempt: 2, wait: "\(RunID.fixture(1)):bench:2:wait",
            expires: expires)
    }

    @Test func aMintedTokenVerifiesToItsClaims() throws {
        let keys = try CallbackKeyRing(keys: ["k1": Self.old], signingKeyID: "k1")
        let claims = claims()
        let token = CallbackToken.mint(claims, keys: keys)
        #expect(try CallbackToken.verify(token, keys: keys) == claims)
        #expect(token.hasPrefix("kcb1.k1."))
    }

    @Test func anyChangedByteIsRefusedAsForgedOrMalformed() throws {
        let keys = try CallbackKeyRing(keys: ["k1": Self.old], signingKeyID: "k1")
        let token = Array(CallbackToken.mint(claims(), keys: keys).utf8)
        // Every byte after the prefix, the signature's last character included: its unused low bits
        // once let `A` and `B` there decode to the same signature.
        for index in 8..<token.count {
            var changed = token
            changed[index] = changed[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            #expect(throws: CallbackTokenError.self) {
                try CallbackToken.verify(String(decoding: changed, as: UTF8.self), keys: keys)
            }
        }
        // The same signature bytes spelled differently: the last character's unused low bit flipped.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var respelled = token
        let last = try #require(alphabet.firstIndex(of: token[token.count - 1]))
        respelled[token.count - 1] = alphabet[last ^ 1]
        #expect(throws: CallbackTokenError.self) {
            try CallbackToken.verify(String(decoding: respelled, as: UTF8.self), keys: keys)
        }
        let other = try CallbackKeyRing(keys: ["k1": Self.new], signingKeyID: "k1")
        #expect(throws: CallbackTokenError.forged) {
            try CallbackToken.verify(CallbackToken.mint(claims(), keys: other), keys: keys)
        }
        #expect(throws: CallbackTokenError.malformed) {
            try CallbackToken.verify("Bearer nonsense", keys: keys)
        }
    }

    @Test func expiredAndForeignAudienceTokensAreRefused() throws {
        let keys = try CallbackKeyRing(keys: ["k1": Self.old], signingKeyID: "k1")
        let expired = CallbackToken.mint(claims(expires: 1_000), keys: keys)
        #expect(throws: CallbackTokenError.expired) { try CallbackToken.verify(expired, keys: keys) }
        var foreign = claims()
        foreign.audience = "someone-else"
        #expect(throws: CallbackTokenError.wrongAudience) {
            try CallbackToken.verify(CallbackToken.mint(foreign, keys: keys), keys: keys)
        }
    }

    @Test func rotationKeepsOldTokensValidAndSignsWithTheNewKey() throws {
        let before = try CallbackKeyRing(keys: ["k1": Self.old], signingKeyID: "k1")
        let claims = claims()
        let issued = CallbackToken.mint(claims, keys: before)
        let rotated = try CallbackKeyRing(
            keysSetting:
                "k2:\(Data(Self.new).base64EncodedString()),k1:\(Data(Self.old).base64EncodedString())",
            signingKeyID: "k2")
        #expect(try CallbackToken.verify(issued, keys: rotated) == claims)
        #expect(CallbackToken.mint(claims, keys: rotated).hasPrefix("kcb1.k2."))
        let retired = try CallbackKeyRing(keys: ["k2": Self.new], signingKeyID: "k2")
        #expect(throws: CallbackTokenError.forged) { try CallbackToken.verify(issued, keys: retired) }
    }

    @Test func weakOrMissingKeysAreRefusedWithoutEchoingThem() {
        #expect(throws: CallbackKeyRingError.keyTooShort("k1")) {
            try CallbackKeyRing(keys: ["k1": [1, 2, 3]], signingKeyID: "k1")
        }
        #expect(throws: CallbackKeyRingError.unknownSigningKey("k9")) {
            try CallbackKeyRing(keys: ["k1": Self.old], signingKeyID: "k9")
        }
        #expect(throws: CallbackKeyRingError.malformedSetting) {
            try CallbackKeyRing(keysSetting: "k1=secret", signingKeyID: nil)
        }
    }
}
