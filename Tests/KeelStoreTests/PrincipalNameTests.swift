import Testing

import KeelStore

/// Token names and groups are the names flows list as approvers.
@Suite struct PrincipalNameTests {
    @Test func acceptsWhatFlowsAcceptAsApprovers() {
        for name in [
            "ana", "Ana.Silva", "ci-bot_2", "ana@example.com", "7", String(repeating: "a", count: 128),
        ] {
            #expect(PrincipalName.isValid(name), "\(name)")
        }
    }

    @Test func refusesWhatAFlowCouldNeverName() {
        for name in [
            "", "-ana", ".ana", "ana silva", "group:reviewers", "ánа", String(repeating: "a", count: 129),
        ] {
            #expect(!PrincipalName.isValid(name), "\(name)")
        }
    }
}
