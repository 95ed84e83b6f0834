import Foundation
import KeelAPI
import KeelCore
import KeelStore

extension OperatorAPI {
    func listFlows(_ input: Operations.ListFlows.Input) async throws -> Operations.ListFlows.Output {
        _ = try await actions.authorize(.approver)
        let flows = try await flows.list().map {
            Components.Schemas.FlowSummary(
                name: $0.name, description: $0.description, liveVersion: $0.liveVersion,
                latestVersion: $0.latestVersion, updatedAt: $0.updatedAt)
        }
        return .ok(.init(body: .json(.init(flows: flows))))
    }

    func listFlowVersions(_ input: Operations.ListFlowVersions.Input) async throws
        -> Operations.ListFlowVersions.Output
    {
        _ = try await actions.authorize(.approver)
        let name = input.path.flow
        let (versions, live) = try await flowStore {
            (try await flows.versions(flow: name), try await liveVersion(name))
        }
        return .ok(
            .init(body: .json(.init(versions: versions.map { Self.version($0, live: live, source: false) }))))
    }

    func getFlowVersion(_ input: Operations.GetFlowVersion.Input) async throws
        -> Operations.GetFlowVersion.Output
    {
        _ = try await actions.authorize(.approver)
        let name = input.path.flow
        let (record, live) = try await flowStore {
            (try await flows.version(flow: name, number: input.path.version), try await liveVersion(name))
        }
        return .ok(.init(body: .json(Self.version(record, live: live, source: true))))
    }

    func listFlowReleases(_ input: Operations.ListFlowReleases.Input) async throws
        -> Operations.ListFlowReleases.Output
    {
        _ = try await actions.authorize(.approver)
        let releases = try await flowStore { try await flows.releases(flow: input.path.flow) }
        return .ok(.init(body: .json(.init(releases: releases.map(APIShapes.release)))))
    }

    func diffFlowVersions(_ input: Operations.DiffFlowVersions.Input) async throws
        -> Operations.DiffFlowVersions.Output
    {
        _ = try await actions.authorize(.approver)
        let name = input.path.flow
        let (from, to) = (input.query.from, input.query.to)
        let (old, new) = try await flowStore {
            (
                try await flows.version(flow: name, number: from),
                try await flows.version(flow: name, number: to)
            )
        }
        let diff = LineDiff.unified(
            old: old.source, new: new.source, oldLabel: "\(name) v\(from)", newLabel: "\(name) v\(to)")
        let lines =
            diff.isEmpty ? [] : diff.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return .ok(
            .init(
                body: .json(
                    .init(flow: name, from: from, to: to, identical: old.source == new.source, lines: lines)))
        )
    }

    func releaseFlow(_ input: Operations.ReleaseFlow.Input) async throws -> Operations.ReleaseFlow.Output {
        guard case .json(let body) = input.body else { throw Problems.jsonBodyRequired }
        let name = input.path.flow
        let principal = try await actions.authorize(.admin, action: "flow.release", target: name)
        if let reason = body.reason { try Limits.text(reason, "reason", maximum: 2000) }
        do {
            let record = try await flows.release(
                flow: name, version: body.version, actor: principal.name, reason: body.reason)
            await actions.record(
                "flow.release", target: name, by: principal, outcome: .done, detail: "v\(record.toVersion)")
            return .ok(.init(body: .json(APIShapes.released(record))))
        } catch FlowStoreError.alreadyLive(_, let version) {
            // Deploy scripts release what they pushed; the version being live already is success.
            return .ok(.init(body: .json(.init(flow: name, liveVersion: version, unchanged: true))))
        } catch let error as FlowStoreError {
            await actions.record(
                "flow.release", target: name, by: principal, outcome: .refused, detail: error.description)
            throw Problems.flow(error)
        }
    }

    func rollbackFlow(_ input: Operations.RollbackFlow.Input) async throws -> Operations.RollbackFlow.Output {
        guard case .json(let body) = input.body else { throw Problems.jsonBodyRequired }
        let name = input.path.flow
        let principal = try await actions.authorize(.admin, action: "flow.rollback", target: name)
        if let reason = body.reason { try Limits.text(reason, "reason", maximum: 2000) }
        do {
            let record = try await flows.rollback(flow: name, actor: principal.name, reason: body.reason)
            await actions.record(
                "flow.rollback", target: name, by: principal, outcome: .done,
                detail: "v\(record.fromVersion.map(String.init) ?? "?") to v\(record.toVersion)")
            return .ok(.init(body: .json(APIShapes.released(record))))
        } catch let error as FlowStoreError {
            await actions.record(
                "flow.rollback", target: name, by: principal, outcome: .refused, detail: error.description)
            throw Problems.flow(error)
        }
    }

    /// Runs a flow store read, its refusals as problems.
    func flowStore<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as FlowStoreError {
            throw Problems.flow(error)
        }
    }

    private func liveVersion(_ flow: String) async throws -> Int? {
        try await flows.list().first { $0.name == flow }?.liveVersion
    }

    static func version(_ record: FlowVersionRecord, live: Int?, source: Bool)
        -> Components.Schemas.FlowVersion
    {
        .init(
            flow: record.flow, version: record.version, sha256: record.sha256, author: record.author,
            createdAt: record.createdAt, live: record.version == live, source: source ? record.source : nil)
    }
}
