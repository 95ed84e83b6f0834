import Foundation
import KeelTestSupport
import Testing

/// `keel flow ...` as users and agents run it: the real executable against the real PostgreSQL, checking
/// the documented JSON shapes and exit codes (docs/cli.md).
@Suite struct FlowCLITests: KeelCLITesting {
    let examples = TestEnvironment.packageRoot.appendingPathComponent("Examples")

    @Test func validateNeedsNoServerAndReportsEveryProblemWithItsPosition() async throws {
        let files = [
            "safe-code-change.yaml", "bulk-data-fix.yaml", "gpu-benchmark.yaml", "schema-change.yaml",
            "nightly-dependency-check.yaml",
        ].map {
            examples.appendingPathComponent($0).path
        }
        let ok = try await keel(["flow", "validate", "--json"] + files)
        #expect(ok.status == 0)
        let reports = try #require(ok.json as? [[String: Any]])
        #expect(reports.count == 5)
        #expect(reports.allSatisfy { $0["valid"] as? Bool == true && ($0["sha256"] as? String)?.count == 64 })

        let broken = try temporaryFile(
            """
            flow: broken
            steps:
              - id: a
                needs: [b]
                noop: {}
              - id: b
                needs: [a]
                noop: {}
                retyr: {max_attempts: 2}
            """)
        let bad = try await keel(["flow", "validate", "--json", broken])
        #expect(bad.status == 1)
        let report = try #require((bad.json as? [[String: Any]])?.first)
        #expect(report["valid"] as? Bool == false)
        let errors = try #require(report["errors"] as? [[String: Any]])
        let codes = Set(errors.compactMap { $0["code"] as? String })
        #expect(codes.contains("cycle"))
        #expect(codes.contains("unknown_field"))
        let unknown = try #require(errors.first { $0["code"] as? String == "unknown_field" })
        #expect(unknown["line"] as? Int == 9)
        #expect(unknown["column"] as? Int == 5)
        #expect((unknown["path"] as? String)?.hasPrefix("steps[1]") == true)
    }

    @Test func pushReleaseRollbackAndDiffAsDocumented() async throws {
        let database = try await TestDatabase.create()
        let migrate = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", database.url])
        try #require(migrate.status == 0, "\(migrate.output)")

        let original = try String(
            contentsOf: examples.appendingPathComponent("safe-code-change.yaml"), encoding: .utf8)
        let v1File = try temporaryFile(original)
        let reformatted = try temporaryFile("# only a comment changed\n" + original)
        let v2File = try temporaryFile(
            original.replacingOccurrences(
                of: "description: Generate a patch", with: "description: Carefully generate a patch"))

        let first = try await keel(["flow", "push", "--json", v1File], database: database)
        #expect(first.status == 0)
        let firstBody = try #require(first.json as? [String: Any])
        #expect(firstBody["created"] as? Bool == true)
        #expect((firstBody["version"] as? [String: Any])?["version"] as? Int == 1)
        #expect((firstBody["version"] as? [String: Any])?["author"] as? String == "e2e-tester")

        let same = try await keel(["flow", "push", "--json", reformatted], database: database)
        #expect((same.json as? [String: Any])?["created"] as? Bool == false)
        #expect(((same.json as? [String: Any])?["version"] as? [String: Any])?["version"] as? Int == 1)

        let second = try await keel(["flow", "push", "--json", v2File], database: database)
        #expect(((second.json as? [String: Any])?["version"] as? [String: Any])?["version"] as? Int == 2)

        let release = try await keel(["flow", "release", "safe-code-change", "--json"], database: database)
        #expect(release.status == 0)
        #expect((release.json as? [String: Any])?["toVersion"] as? Int == 2)
        let pin = try await keel(
            ["flow", "release", "safe-code-change", "--version", "1", "--reason", "pin", "--json"],
            database: database)
        #expect((pin.json as? [String: Any])?["fromVersion"] as? Int == 2)
        let rollback = try await keel(["flow", "rollback", "safe-code-change", "--json"], database: database)
        #expect((rollback.json as? [String: Any])?["kind"] as? String == "rollback")
        #expect((rollback.json as? [String: Any])?["toVersion"] as? Int == 2)

        let versions = try await keel(["flow", "versions", "safe-code-change", "--json"], database: database)
        let versionsBody = try #require(versions.json as? [String: Any])
        #expect(versionsBody["liveVersion"] as? Int == 2)
        #expect((versionsBody["versions"] as? [[String: Any]])?.count == 2)

        let diff = try await keel(
            ["flow", "diff", "safe-code-change", "1", "2", "--json"], database: database)
        let diffBody = try #require(diff.json as? [String: Any])
        #expect(diffBody["semanticallyDifferent"] as? Bool == true)
        let text = try #require(diffBody["diff"] as? String)
        #expect(text.contains("-description: Generate a patch"))
        #expect(text.contains("+description: Carefully generate a patch"))

        let show = try await keel(["flow", "show", "safe-code-change", "--json"], database: database)
        let showBody = try #require(show.json as? [String: Any])
        #expect(showBody["live"] as? Bool == true)
        #expect(
            (showBody["releases"] as? [[String: Any]])?.map { $0["kind"] as? String } == [
                "release", "release", "rollback",
            ])

        let unknown = try await keel(
            ["flow", "release", "safe-code-change", "--version", "9", "--json"], database: database)
        #expect(unknown.status == 1)
        #expect((unknown.json as? [String: Any])?["kind"] as? String == "user")
        #expect(((unknown.json as? [String: Any])?["error"] as? String)?.contains("no version 9") == true)

        try await database.drop()
    }

    @Test func anUnreachableDatabaseIsAnInfrastructureError() async throws {
        let result = try await ServiceProcess.run(
            "keel",
            arguments: ["flow", "list", "--json", "--database-url", "postgres://keel:pw@127.0.0.1:1/keel"])
        #expect(result.status == 2)
        #expect(result.output.contains("\"kind\" : \"infrastructure\""))
    }
}
