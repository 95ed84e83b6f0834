import Foundation
import KeelCore
import KeelStore
import Testing

@testable import callback_gateway

/// The callback body, parsed field by field: each bad field is named with what was expected.
@Suite struct CallbackRequestTests {
    func parse(_ text: String) throws(CallbackRequest.Failure) -> CallbackRequest {
        try CallbackRequest(try CallbackRequest.object(Array(text.utf8)))
    }

    func pointers(_ text: String) -> [String] {
        do {
            _ = try parse(text)
            return []
        } catch .invalid(let errors) {
            return errors.map(\.pointer)
        } catch {
            return ["malformed"]
        }
    }

    @Test func aMinimalCallbackHasAnEmptyObjectAsOutput() throws {
        let request = try parse(#"{"status": "heartbeat"}"#)
        #expect(request.status == .heartbeat)
        #expect(request.output == .object([:]))
        #expect(request.resources.isEmpty)
        #expect(request.waitID == nil)
    }

    @Test func resourcesAreNamedReferences() throws {
        let digest = String(repeating: "0a", count: 32)
        let request = try parse(
            #"{"status": "succeeded", "output": {"p50_ms": 1}, "resources": [{"name": "log", "resource": "res:sha256:\#(digest)"}], "wait_id": "w"}"#
        )
        #expect(request.resources["log"]?.sha256 == digest)
        #expect(request.output == ["p50_ms": 1])
        #expect(request.waitID == "w")
    }

    @Test func eachBadFieldIsNamed() {
        #expect(pointers(#"{}"#) == ["/status"])
        #expect(pointers(#"{"status": "done"}"#) == ["/status"])
        #expect(pointers(#"{"status": 1}"#) == ["/status"])
        #expect(pointers(#"{"status": "failed", "resources": {}}"#) == ["/resources"])
        #expect(
            pointers(
                #"{"status": "failed", "resources": [{"name": "../etc", "resource": "x"}, {"name": "a", "resource": "x"}, 3]}"#
            )
                == ["/resources/0/name", "/resources/1/resource", "/resources/2"])
        let digest = String(repeating: "0a", count: 32)
        #expect(
            pointers(
                #"{"status": "failed", "resources": [{"name": "a", "resource": "\#(digest)"}, {"name": "a", "resource": "\#(digest)"}]}"#
            ) == ["/resources/1/name"])
        #expect(pointers(#"{"status": "failed", "wait_id": 7}"#) == ["/wait_id"])
        #expect(pointers(#"[1]"#) == [""])
        #expect(pointers(#"{"status": "#) == ["malformed"])
    }

    @Test func resourceNamesAreSafeOutputKeys() {
        for name in ["log", "bench.log", "p99_ms", "a-b", "0", String(repeating: "a", count: 128)] {
            #expect(CallbackResourceName.isValid(name), "\(name)")
        }
        for name in ["", "a/b", "a b", "ü", "a\u{0}", String(repeating: "a", count: 129)] {
            #expect(!CallbackResourceName.isValid(name), "\(name)")
        }
    }
}

/// Dead letters keep a refused message, but never a token that could still answer a wait.
@Suite struct CallbackTokenRedactionTests {
    @Test func tokensAreReplacedWhereverTheyAppear() throws {
        let keys = try CallbackKeyRing(keys: ["k1": Array(repeating: 1, count: 32)], signingKeyID: "k1")
        let token = CallbackToken.mint(
            CallbackClaims(run: RunID(UUID()), step: "s", attempt: 1, wait: "r:s:1:wait", expires: 1),
            keys: keys)
        let body = #"{"token": "\#(token)", "status": "succeeded", "note": "again: \#(token)"}"#
        let redacted = String(decoding: CallbackTokenRedaction.redact(Array(body.utf8)), as: UTF8.self)
        #expect(!redacted.contains("kcb1."))
        #expect(redacted == #"{"token": "[redacted]", "status": "succeeded", "note": "again: [redacted]"}"#)
    }

    /// The same token, spelled with the escapes a JSON writer may use: each decodes to the live token.
    static func escapedSpellings(of token: String) -> [String] {
        func escaped(_ character: Character) -> String {
            character.unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined()
        }
        let rest = token.dropFirst("kcb1.".count)
        return [
            "\\u006bcb1." + rest,
            "kcb1\\u002e" + rest,
            "\\u006B\\u0063\\u0062\\u0031\\u002E" + rest,
            token.map(escaped).joined(),
            String(token.dropLast()) + token.suffix(1).map(escaped).joined(),
            token.replacingOccurrences(of: ".", with: "\\u002e"),
            "kcb1."
                + rest.replacingOccurrences(of: "_", with: "\\u005f").replacingOccurrences(
                    of: "-", with: "\\u002d"),
        ]
    }

    @Test func tokensWrittenWithJSONEscapesAreReplaced() throws {
        let keys = try CallbackKeyRing(keys: ["k1": Array(repeating: 1, count: 32)], signingKeyID: "k1")
        for _ in 0..<200 {
            try expectTokensWrittenWithJSONEscapesAreReplaced(
                CallbackToken.mint(
                    CallbackClaims(run: RunID(UUID()), step: "s", attempt: 1, wait: "r:s:1:wait", expires: 1),
                    keys: keys))
        }
    }

    func expectTokensWrittenWithJSONEscapesAreReplaced(_ token: String) throws {
        let signature = String(token.split(separator: ".").last!)
        for spelling in Self.escapedSpellings(of: token) {
            let body =
                #"{"token": "\#(spelling)", "status": "succeeded", "output": {"note\/x": ["see \#(spelling)"]}}"#
            let document = try JSONValue(parsing: body)
            #expect(document["token"]?.stringValue == token, "the spelling decodes to the live token")
            let redacted = String(decoding: CallbackTokenRedaction.redact(Array(body.utf8)), as: UTF8.self)
            let reread = try JSONValue(parsing: redacted)
            #expect(reread["token"]?.stringValue == "[redacted]", "\(spelling) -> \(redacted)")
            #expect(reread["output"]?["note/x"]?[0]?.stringValue == "see [redacted]", "\(redacted)")
            #expect(reread["status"]?.stringValue == "succeeded")
            #expect(!JSONEscapes.undone(in: redacted).contains(signature), "\(redacted)")
        }
    }

    @Test func escapedTokensInBodiesThatAreNotJSONAreReplaced() throws {
        let keys = try CallbackKeyRing(keys: ["k1": Array(repeating: 1, count: 32)], signingKeyID: "k1")
        // Many tokens: a signature starting with `-` or `_`, escaped, once slipped through.
        for _ in 0..<200 {
            try expectEscapedTokensInBodiesThatAreNotJSONAreReplaced(
                CallbackToken.mint(
                    CallbackClaims(run: RunID(UUID()), step: "s", attempt: 1, wait: "r:s:1:wait", expires: 1),
                    keys: keys))
        }
    }

    func expectEscapedTokensInBodiesThatAreNotJSONAreReplaced(_ token: String) throws {
        let signature = String(token.split(separator: ".").last!)
        for spelling in Self.escapedSpellings(of: token) {
            // Broken JSON (a missing brace), and a token inside a JSON document sent as a string.
            for body in [#"{"token": "\#(spelling)""#, #"{"output": "{\"t\": \"\#(spelling)\"}"}"#] {
                let redacted = String(
                    decoding: CallbackTokenRedaction.redact(Array(body.utf8)), as: UTF8.self)
                let decodedTwice = JSONEscapes.undone(in: JSONEscapes.undone(in: redacted))
                #expect(!decodedTwice.contains(signature), "\(body) -> \(redacted)")
                #expect(decodedTwice.contains("[redacted]"), "\(body) -> \(redacted)")
            }
        }
    }

    @Test func bytesThatAreNotTextAreDropped() {
        let redacted = CallbackTokenRedaction.redact([0xFF, 0xFE, 0x6B, 0x63])
        #expect(String(decoding: redacted, as: UTF8.self) == "[body dropped: not UTF-8 text]")
    }
}

/// The answers a job gets, the same over HTTP and AMQP.
@Suite struct CallbackReplyTests {
    @Test func tokenRefusalsAre401ExceptExpiry() {
        #expect(CallbackReply.refused(.expired).status == 410)
        #expect(
            CallbackReply.refused(.expired).body.objectValue?["type"] == "/problems/callback-token-expired")
        for error in [CallbackTokenError.malformed, .forged, .wrongAudience] {
            let reply = CallbackReply.refused(error)
            #expect(reply.status == 401)
            #expect(reply.isRefusal)
            #expect(reply.body.objectValue?["detail"]?.stringValue?.hasPrefix("The callback token") == true)
        }
    }

    @Test func outcomesMapToStatuses() {
        let answer = WaitAnswer(
            waitID: "r:s:1:wait", status: .timedOut, closedAt: Date(timeIntervalSince1970: 0))
        #expect(CallbackReply.taken(.keptEarly).status == 202)
        #expect(
            CallbackReply.taken(.heartbeatApplied(due: nil)).body.objectValue?["next_heartbeat_due"] == .null)
        let closed = CallbackReply.taken(.refused(.waitClosed(answer)))
        #expect(closed.status == 409)
        #expect(!closed.isRefusal, "a late callback is answered, not dead-lettered")
        #expect(closed.body.objectValue?["wait"]?.objectValue?["status"] == "timed_out")
        let invalid = CallbackReply.taken(
            .refused(
                .invalidOutput([
                    JSONSchemaValidationError(
                        instanceLocation: JSONPointer(tokens: ["p50_ms"]), keywordLocation: JSONPointer(),
                        message: "expected a number")
                ])))
        #expect(invalid.status == 422)
        #expect(
            invalid.body.objectValue?["errors"]?.arrayValue?.first?.objectValue?["pointer"]
                == "/output/p50_ms")
    }
}
