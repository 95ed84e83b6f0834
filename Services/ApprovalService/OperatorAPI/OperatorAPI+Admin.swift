import Foundation
import KeelAPI
import KeelCore
import KeelStore

extension OperatorAPI {
    func listDeadLetters(_ input: Operations.ListDeadLetters.Input) async throws
        -> Operations.ListDeadLetters.Output
    {
        _ = try await actions.authorize(.operator)
        let limit = try Limits.check(input.query.limit ?? 50, "limit", inQuery: true)
        let found = try await rejections.recent(limit: limit, before: input.query.before)
        let letters = found.map {
            Components.Schemas.DeadLetter(
                id: $0.id, messageId: $0.messageID, routingKey: $0.routingKey, flow: $0.flow,
                reason: $0.reason,
                field: $0.field, message: $0.message, correlationId: $0.correlationID,
                bodyBytes: $0.bodyBytes,
                receivedAt: $0.receivedAt)
        }
        return .ok(
            .init(
                body: .json(
                    .init(deadLetters: letters, nextBefore: found.count == limit ? found.last?.id : nil))))
    }

    func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output {
        _ = try await actions.authorize(.admin)
        return .ok(.init(body: .json(.init(tokens: try await tokens.list().map(APIShapes.token)))))
    }

    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        guard case .json(let body) = input.body else { throw Problems.jsonBodyRequired }
        let principal = try await actions.authorize(.admin, action: "token.create", target: body.name)
        guard PrincipalName.isValid(body.name) else {
            throw Limits.invalid(
                "name", "expected letters, digits and . _ @ - (starting with a letter or digit), at most 128")
        }
        let groups = body.groups ?? []
        guard groups.count <= 50 else { throw Limits.invalid("groups", "expected at most 50 groups") }
        for (index, group) in groups.enumerated() where !PrincipalName.isValid(group) {
            throw Limits.invalid(
                "groups/\(index)",
                "expected letters, digits and . _ @ - (starting with a letter or digit), at most 128")
        }
        guard let role = APITokenRole(rawValue: body.role.rawValue) else {
            throw Limits.invalid("role", "unknown role")
        }
        do {
            let issued = try await tokens.create(
                name: body.name, role: role, groups: groups, createdBy: principal.name)
            await actions.record(
                "token.create", target: body.name, by: principal, outcome: .done, detail: role.rawValue)
            return .created(
                .init(body: .json(.init(token: issued.token, record: APIShapes.token(issued.record)))))
        } catch let error as APITokenError {
            await actions.record(
                "token.create", target: body.name, by: principal, outcome: .refused, detail: "name taken")
            throw Problems.conflict(error.description)
        }
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        let name = input.path.name
        let principal = try await actions.authorize(.admin, action: "token.revoke", target: name)
        guard try await tokens.revoke(name: name) else {
            await actions.record(
                "token.revoke", target: name, by: principal, outcome: .refused, detail: "no live token")
            throw Problems.notFound("There is no live token named '\(name)'.")
        }
        await actions.record("token.revoke", target: name, by: principal, outcome: .done)
        return .noContent(.init())
    }

    func listActions(_ input: Operations.ListActions.Input) async throws -> Operations.ListActions.Output {
        _ = try await actions.authorize(.admin)
        let limit = try Limits.check(input.query.limit ?? 100, "limit", inQuery: true)
        let recent = try await actions.store.recent(limit: limit).map {
            Components.Schemas.Action(
                id: $0.id ?? 0, principal: $0.principal, tokenId: $0.tokenID, role: $0.role,
                action: $0.action,
                target: $0.target, outcome: .init(rawValue: $0.outcome.rawValue) ?? .refused,
                detail: $0.detail,
                at: $0.at ?? Date(timeIntervalSince1970: 0))
        }
        return .ok(.init(body: .json(.init(actions: recent))))
    }
}
