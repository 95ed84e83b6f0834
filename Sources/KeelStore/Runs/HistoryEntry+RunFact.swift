import Foundation
public import KeelCore

extension HistoryEntry {
    /// The row for a fact: its JSON (docs/history.md) and the columns operators filter on.
    public init(_ fact: RunFact) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.init(
            kind: fact.event.kind, step: fact.event.step, attempt: fact.event.attempt,
            actor: fact.event.actor,
            errorClass: fact.event.errorClass?.rawValue,
            fact: String(decoding: try encoder.encode(fact), as: UTF8.self))
    }

    /// The fact a row holds.
    public func decodedFact() throws -> RunFact {
        try JSONDecoder().decode(RunFact.self, from: Data(fact.utf8))
    }
}
