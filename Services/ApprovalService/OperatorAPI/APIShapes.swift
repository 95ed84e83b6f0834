import Foundation
import KeelAPI
import KeelCore
import KeelStore
import OpenAPIRuntime

/// Keel's records as the generated API types: field by field where the document describes them, through
/// their JSON where it leaves them open (a run's timeline, a fact).
enum APIShapes {
    static func run(_ run: RunSummary) throws -> Components.Schemas.RunSummary {
        guard let status = Components.Schemas.RunStatus(rawValue: run.status) else {
            throw CocoaError(.coderInvalidValue)
        }
        return .init(
            id: run.id.description, flow: run.flow, version: run.version, status: status,
            idempotencyKey: run.idempotencyKey,
            correlationId: run.correlationID, actor: run.actor, requester: run.requester,
            createdAt: run.createdAt, finishedAt: run.finishedAt)
    }

    static func started(_ run: RunSummary, status: Components.Schemas.StartedRun.StatusPayload)
        -> Components.Schemas.StartedRun
    {
        .init(
            runId: run.id.description, flow: run.flow, idempotencyKey: run.idempotencyKey,
            requester: run.requester,
            status: status)
    }

    static func historyEntry(_ recorded: RecordedFact) throws -> Components.Schemas.HistoryEntry {
        .init(
            seq: recorded.seq, kind: recorded.entry.kind, step: recorded.entry.step,
            attempt: recorded.entry.attempt, actor: recorded.entry.actor,
            errorClass: recorded.entry.errorClass,
            recordedAt: recorded.recordedAt,
            fact: try JSONDecoder().decode(
                Components.Schemas.HistoryEntry.FactPayload.self, from: Data(recorded.entry.fact.utf8)))
    }

    static func release(_ record: FlowReleaseRecord) -> Components.Schemas.FlowRelease {
        .init(
            id: record.id, flow: record.flow, fromVersion: record.fromVersion, toVersion: record.toVersion,
            kind: record.kind == .release ? .release : .rollback, actor: record.actor, reason: record.reason,
            createdAt: record.createdAt)
    }

    /// A release or rollback that changed the live version.
    static func released(_ record: FlowReleaseRecord) -> Components.Schemas.ReleaseResult {
        .init(flow: record.flow, liveVersion: record.toVersion, unchanged: false, release: release(record))
    }

    static func token(_ record: APITokenRecord) -> Components.Schemas.Token {
        .init(
            id: record.id, name: record.name, role: .init(rawValue: record.role.rawValue) ?? .approver,
            groups: record.groups, createdBy: record.createdBy, createdAt: record.createdAt,
            lastUsedAt: record.lastUsedAt, revokedAt: record.revokedAt)
    }

    /// Any Encodable value as an open object of the document (`additionalProperties: true`).
    static func converted<Payload: Decodable>(_ value: some Encodable) throws -> Payload {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return try JSONDecoder().decode(Payload.self, from: encoder.encode(value))
    }

    /// An open object from a request (a run's input) as Keel's JSON value; nil is the empty object.
    static func jsonValue(_ container: OpenAPIObjectContainer?) throws -> JSONValue {
        guard let container else { return .object([:]) }
        let bytes = try JSONEncoder().encode(container)
        return try JSONValue(parsing: String(decoding: bytes, as: UTF8.self))
    }
}
