import KeelCore
import Testing

@testable import callback_gateway

/// A callback's `usage`: known keys with finite, non-negative numbers, or a field error naming the member.
@Suite("Callback usage")
struct CallbackUsageTests {
    func parse(_ text: String) throws(CallbackRequest.Failure) -> CallbackRequest {
        try CallbackRequest(try CallbackRequest.object(Array(text.utf8)))
    }

    func errors(_ text: String) -> [String] {
        do {
            _ = try parse(text)
            return []
        } catch .invalid(let errors) {
            return errors.map { "\($0.pointer): \($0.detail)" }
        } catch {
            return ["malformed"]
        }
    }

    @Test("A callback's usage is read with the callback")
    func reads() throws {
        let request = try parse(#"{"status": "succeeded", "usage": {"tokens": 1200, "money": 0.5}}"#)
        #expect(request.usage == Usage(tokens: 1200, money: 0.5))
        #expect(try parse(#"{"status": "succeeded"}"#).usage == .zero)
    }

    @Test(
        "A bad usage is refused naming the field",
        arguments: [
            (#"{"tokens": -5}"#, "/usage/tokens: expected a finite number from 0 to 1e15; got -5"),
            (#"{"tokens": 1e999}"#, "/usage/tokens: expected a finite number"),
            (#"{"tokens": "NaN"}"#, "/usage/tokens: expected a number; got string"),
            (#"{"cash": 1}"#, "/usage/cash: unknown usage key"),
            (#"[1]"#, "/usage: expected an object"),
        ])
    func refuses(usage: String, error: String) {
        let found = errors(#"{"status": "succeeded", "usage": \#(usage)}"#)
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix(error) == true, "\(found)")
    }
}
