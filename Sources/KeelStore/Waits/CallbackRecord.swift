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
            let (
                tokenDigest, waitID, rawStatus, output, resources, receivedAt, rawDisposition, applied, answer
            ) = try row.decode((String, String, String, String, String, Date, String, Bool, String?).self)
            guard let status = CallbackStatus(rawValue: rawStatus),
                let disposition = CallbackDisposition(rawValue: rawDisposition)
            else { throw PGError(code: .decoding, message: "unknown callback status or disposition") }
            return CallbackRecord(
                tokenDigest: tokenDigest, waitID: waitID, status: status,
                output: try JSONValue(parsing: output),
                resources: CallbackPayload.resources(try JSONValue(parsing: resources)),
                receivedAt: receivedAt, disposition: disposition, applied: applied,
                answer: try answer.map { try JSONValue(parsing: $0) }.flatMap(WaitAnswer.init(json:)))
        }
    }
}
