import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// Versions, releases and rollbacks against the real PostgreSQL.
@Suite struct FlowStoreTests {
    static func hash(_ n: Int) -> String {
        let hex = String(n, radix: 16)
        return String(repeating: "0", count: 64 - hex.count) + hex
    }

    @discardableResult
    func push(_ store: FlowStore, _ flow: String, content: Int, author: String = "ana")
        async throws -> FlowStore.PushResult
    {
        try await store.push(
            flow: flow, description: "demo flow", canonicalJSON: #"{"flow":"\#(flow)","n":\#(content)}"#,
            sha256: Self.hash(content), source: "flow: \(flow)\n# \(content)\n", author: author)
    }

    @Test func pushNumbersVersionsAndDedupesUnchangedContent() async throws {
        try await withMigratedDatabase { pool in
            let store = FlowStore(pool: pool)
            let first = try await push(store, "demo", content: 1)
            #expect(first.created && first.version.version == 1)
            let again = try await push(store, "demo", content: 1, author: "bob")
            #expect(!again.created)
            #expect(again.version == first.version)
            let second = try await push(store, "demo", content: 2)
            #expect(second.created && second.version.version == 2)
            #expect(try await store.versions(flow: "demo").map(\.version) == [1, 2])
            #expect(try await store.version(flow: "demo", number: 2).source.contains("# 2"))
            #expect(
                second.version.definition.contains("\"n\": 2")
                    || second.version.definition.contains("\"n\":2"))
        }
    }

    @Test func concurrentPushesGetDistinctConsecutiveNumbersAndSameContentIsStoredOnce() async throws {
        try await withMigratedDatabase { pool in
            let store = FlowStore(pool: pool)
            let results = try await withThrowingTaskGroup(of: FlowStore.PushResult.self) { group in
                for n in 0..<12 {
                    // Six distinct contents, each pushed twice at once.
                    group.addTask { try await push(store, "busy", content: 100 + n % 6) }
                }
                var all: [FlowStore.PushResult] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(results.filter(\.created).count == 6)
            let versions = try await store.versions(flow: "busy")
            #expect(versions.map(\.version) == Array(1...6))
            #expect(Set(versions.map(\.sha256)).count == 6)
        }
    }

    @Test func liveTriggersRunTheReleaseAndDraftsOnlyWhenNamed() async throws {
        try await withMigratedDatabase { pool in
            let store = FlowStore(pool: pool)
            try await push(store, "demo", content: 1)
            try await push(store, "demo", content: 2)
            await #expect(throws: FlowStoreError.noLiveRelease(flow: "demo")) {
                try await store.resolve(flow: "demo")
            }
            #expect(try await store.resolve(flow: "demo", draft: 2).version == 2)
            try await store.release(flow: "demo", version: 1, actor: "ana")
            #expect(try await store.resolve(flow: "demo").version == 1)
            #expect(try await store.resolve(flow: "demo", draft: 2).version == 2)
            await #expect(throws: FlowStoreError.unknownFlow("nope")) {
                try await store.resolve(flow: "nope")
            }
            await #expect(throws: FlowStoreError.unknownVersion(flow: "demo", version: 9)) {
                try await store.resolve(flow: "demo", draft: 9)
            }
        }
    }

    @Test func releaseAndRollbackAreRecordedAndRollbackUndoesReleasesInOrder() async throws {
        try await withMigratedDatabase { pool in
            let store = FlowStore(pool: pool)
            for n in 1...3 { try await push(store, "demo", content: n) }
            await #expect(throws: FlowStoreError.nothingToRollBack(flow: "demo")) {
                try await store.rollback(flow: "demo", actor: "ana")
            }
            let r1 = try await store.release(flow: "demo", version: 1, actor: "ana", reason: "first")
            #expect(r1.fromVersion == nil && r1.toVersion == 1 && r1.kind == .release)
            await #expect(throws: FlowStoreError.alreadyLive(flow: "demo", version: 1)) {
                try await store.release(flow: "demo", version: 1, actor: "ana")
            }
            try await store.release(flow: "demo", version: 2, actor: "bob")
            let r3 = try await store.release(flow: "demo", version: nil, actor: "cy")  // newest: 3
            #expect(r3.fromVersion == 2 && r3.toVersion == 3)
            await #expect(throws: FlowStoreError.unknownVersion(flow: "demo", version: 7)) {
                try await store.release(flow: "demo", version: 7, actor: "ana")
            }

            let back1 = try await store.rollback(flow: "demo", actor: "ops", reason: "bad release")
            #expect(back1.kind == .rollback && back1.fromVersion == 3 && back1.toVersion == 2)
            let back2 = try await store.rollback(flow: "demo", actor: "ops")
            #expect(back2.fromVersion == 2 && back2.toVersion == 1)
            await #expect(throws: FlowStoreError.nothingToRollBack(flow: "demo")) {
                try await store.rollback(flow: "demo", actor: "ops")
            }
            #expect(try await store.resolve(flow: "demo").version == 1)

            let history = try await store.releases(flow: "demo")
            #expect(history.map(\.kind) == [.release, .release, .release, .rollback, .rollback])
            #expect(history.map(\.actor) == ["ana", "bob", "cy", "ops", "ops"])
            #expect(history.map(\.toVersion) == [1, 2, 3, 2, 1])
            #expect(history[3].reason == "bad release")

            let summary = try #require(try await store.list().first { $0.name == "demo" })
            #expect(summary.liveVersion == 1 && summary.latestVersion == 3)
        }
    }
}
