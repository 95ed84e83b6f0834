import Testing

@testable import KeelCore

/// The `keel-requester` header names a principal or is refused before anything else is looked at.
@Suite struct OnBehalfOfTests {
    @Test("a principal name is accepted as the requester")
    func acceptsAName() {
        #expect(OnBehalfOf.problem(with: "otto") == nil)
        #expect(OnBehalfOf.problem(with: "ci-bot@example.org") == nil)
        #expect(OnBehalfOf.problem(with: String(repeating: "a", count: OnBehalfOf.maximumLength)) == nil)
    }

    @Test(
        "empty, oversized and control-character values are refused",
        arguments: [
            "", String(repeating: "a", count: OnBehalfOf.maximumLength + 1), "otto\u{0}", "otto\nX-Forged: 1",
            "tab\there", "del\u{7F}",
        ])
    func refusesHostileValues(value: String) {
        #expect(OnBehalfOf.problem(with: value) != nil)
    }
}
