import KeelBus
import KeelCore
import PGClient
import Testing

@Suite("Sorting a handler's failures")
struct DeliveryFailureTests {
    func server(_ state: String) -> PGError {
        PGError(
            code: .server, sqlState: state, message: #"invalid input syntax for type uuid: "secret-value""#)
    }

    @Test func dataPostgreSQLRefusesIsPermanentAndItsReasonQuotesNoValue() {
        for state in ["22P05", "22003", "23505", "42P01"] {
            guard case .permanent(let reason) = DeliveryFailure(server(state)) else {
                Issue.record("\(state) should be permanent")
                continue
            }
            #expect(reason.contains(state))
            #expect(!reason.contains("secret-value"))
        }
    }

    @Test func failuresThatMayPassLaterAreTransient() {
        for state in ["40001", "40P01", "53300", "57P01", "08006"] {
            #expect(DeliveryFailure(server(state)) == .transient, "\(state)")
        }
        #expect(DeliveryFailure(PGError(code: .connectionClosed, message: "lost")) == .transient)
        #expect(DeliveryFailure(PGError(code: .timeout, message: "slow")) == .transient)
        struct Unknown: Error {}
        #expect(DeliveryFailure(Unknown()) == .transient)
    }

    @Test func oversizeAndUnstorableMessagesArePermanent() {
        #expect(
            DeliveryFailure(OversizeMessage(bytes: 2_000_000, limit: 1_048_576))
                == .permanent(reason: "the message body is 2000000 bytes; at most 1048576 are read"))
        let unstorable = UnstorableValue(pointer: JSONPointer(tokens: ["output"]), reason: .nulCharacter)
        #expect(DeliveryFailure(unstorable) == .permanent(reason: "\(unstorable)"))
    }
}
