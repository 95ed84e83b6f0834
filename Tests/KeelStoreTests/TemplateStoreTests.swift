import KeelCore
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// Template versions against the real PostgreSQL.
@Suite struct TemplateStoreTests {
    static func template(_ name: String, default attempts: Int) throws -> FlowTemplate {
        try FlowTemplate.parse(
            yaml: """
                template: \(name)
                parameters:
                  attempts: {type: integer, minimum: 1, default: \(attempts)}
                steps:
                  - id: a
                    noop: {}
                    retry: {max_attempts: "${{ params.attempts }}"}
                """,
            file: "\(name).yaml")
    }

    @discardableResult
    func publish(_ store: TemplateStore, _ template: FlowTemplate, author: String = "ana") async throws
        -> TemplateStore.PublishResult
    {
        try await store.publish(
            template: template.name, sha256: template.contentHash,
            parameters: template.parameters.map {
                TemplateParameterRecord(
                    name: $0.name, description: $0.description, schema: $0.schema,
                    defaultValue: $0.defaultValue)
            },
            canonicalJSON: template.canonicalJSON, source: "# \(template.contentHash)\n", author: author)
    }

    @Test func publishNumbersVersionsDedupesAndKeepsParameters() async throws {
        try await withMigratedDatabase { pool in
            let store = TemplateStore(pool: pool)
            let first = try await publish(store, try Self.template("fix", default: 3))
            #expect(first.created && first.template.version == 1)
            #expect(
                first.template.parameters == [
                    TemplateParameterRecord(
                        name: "attempts", description: nil,
                        schema: ["type": "integer", "minimum": 1, "default": 3], defaultValue: 3)
                ])
            let again = try await publish(store, try Self.template("fix", default: 3), author: "bob")
            #expect(!again.created && again.template == first.template)
            let second = try await publish(store, try Self.template("fix", default: 4))
            #expect(second.created && second.template.version == 2)
            #expect(try await store.version(template: "fix").version == 2)
            #expect(try await store.version(template: "fix", number: 1) == first.template)
            _ = try await publish(store, try Self.template("another", default: 1))
            #expect(try await store.list().map { "\($0.name) v\($0.version)" } == ["another v1", "fix v2"])
        }
    }

    @Test func concurrentPublishesGetConsecutiveNumbers() async throws {
        try await withMigratedDatabase { pool in
            let store = TemplateStore(pool: pool)
            let results = try await withThrowingTaskGroup(of: TemplateStore.PublishResult.self) { group in
                for n in 0..<10 {
                    // Five distinct contents, each published twice at once.
                    group.addTask { try await publish(store, try Self.template("busy", default: 1 + n % 5)) }
                }
                var all: [TemplateStore.PublishResult] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(results.filter(\.created).count == 5)
            #expect(Set(results.filter(\.created).map(\.template.version)) == Set(1...5))
        }
    }

    @Test func unknownTemplatesAndVersionsAreUserErrors() async throws {
        try await withMigratedDatabase { pool in
            let store = TemplateStore(pool: pool)
            await #expect(throws: FlowStoreError.unknownTemplate("nope")) {
                try await store.version(template: "nope")
            }
            try await publish(store, try Self.template("fix", default: 3))
            await #expect(throws: FlowStoreError.unknownTemplateVersion(template: "fix", version: 7)) {
                try await store.version(template: "fix", number: 7)
            }
        }
    }

    @Test func publishedVersionsAreImmutable() async throws {
        try await withMigratedDatabase { pool in
            try await publish(TemplateStore(pool: pool), try Self.template("fix", default: 3))
            await #expect(throws: PGError.self) {
                try await pool.withConnection {
                    try await $0.execute("UPDATE flow_templates SET author = 'eve'")
                }
            }
        }
    }
}
