public import Foundation
public import KeelCore
import PGClient

/// What became of a callback when it was received, as `callbacks.disposition` records it.
public enum CallbackDisposition: String, Sendable, Hashable, CaseIterable {
    /// It advanced the run: it ended its wait, or was a heartbeat for it.
    case applied
    /// Its wait had not opened: kept, and applied when the wait opens (`applied` becomes true).
    case early
    /// Its wait was already answered, or an early callback was already kept for it.
    case duplicate
    /// Nothing changed (`CallbackRefusal`).
    case refused
}

/// One received callback as `callbacks` records it (append-only history; the token is not in it).
public struct CallbackRecord: Sendable, Hashable {
    /// Hex SHA-256 of the token claims' `id`.
    public var tokenDigest: String
    public var waitID: String
    public var status: CallbackStatus
    public var output: JSONValue
    public var resources: [String: ResourceReference]
    public var receivedAt: Date
    public var disposition: CallbackDisposition
    public var applied: Bool
    /// The wait's stored answer the sender was given, when there was one.
    public var answer: WaitAnswer?

    static func all(of waitID: String, on connection: PGConnection) async throws -> [CallbackRecord] {
        try await connection.query(
            """
            SELECT token_digest, wait_id, status, output::text, resources::text, received_at, disposition, applied,
                   answer::text
            FROM callbacks WHERE wait_id = \(waitID) ORDER BY id
            """
        ).map { row in
            guard let status = CallbackStatus(rawValue: try row.decode(String.self, at: 2)),
                let disposition = CallbackDisposition(rawValue: try row.decode(String.self, at: 6))
            else { throw PGError(code: .decoding, message: "unknown callback status or disposition") }
            return CallbackRecord(
                tokenDigest: try row.decode(String.self, at: 0), waitID: try row.decode(String.self, at: 1),
                status: status, output: try JSONValue(parsing: try row.decode(String.self, at: 3)),
                resources: CallbackPayload.resources(
                    try JSONValue(parsing: try row.decode(String.self, at: 4))),
                receivedAt: try row.decode(Date.self, at: 5), disposition: disposition,
                applied: try row.decode(Bool.self, at: 7),
                answer: try row.decode(String?.self, at: 8).map { try JSONValue(parsing: $0) }.flatMap(
                    WaitAnswer.init(json:)))
        }
    }
}
