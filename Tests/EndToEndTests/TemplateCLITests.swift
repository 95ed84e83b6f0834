import Foundation
import KeelTestSupport
import Testing

/// `keel template ...`, `keel flow create` and `keel docs` as users and agents run them: the real
/// executable against the real PostgreSQL, checking the documented JSON shapes and exit codes.
@Suite struct TemplateCLITests: KeelCLITesting {
    let template = TestEnvironment.packageRoot.appendingPathComponent(
        "Examples/templates/reviewed-change.yaml"
    )
    .path

    @Test func publishListShowAndCreateAFlowFromATemplate() async throws {
        let database = try await TestDatabase.create()
        let migrate = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", database.url])
        try #require(migrate.status == 0, "\(migrate.output)")

        let published = try await keel(["template", "publish", "--json", template], database: database)
        #expect(published.status == 0)
        let publishedBody = try #require(published.json as? [String: Any])
        #expect(publishedBody["created"] as? Bool == true)
        let record = try #require(publishedBody["template"] as? [String: Any])
        #expect(record["name"] as? String == "reviewed-change")
        #expect(record["version"] as? Int == 1)
        #expect((record["sha256"] as? String)?.count == 64)
        #expect(record["author"] as? String == "e2e-tester")
        let parameters = try #require(record["parameters"] as? [[String: Any]])
        #expect(
            parameters.map { $0["name"] as? String } == [
                "reviewers", "test_command", "review_timeout", "patch_attempts",
            ])
        #expect(parameters[0]["default"] == nil)
        #expect(parameters[1]["default"] as? [String] == ["make", "test"])

        let again = try await keel(["template", "publish", "--json", template], database: database)
        #expect((again.json as? [String: Any])?["created"] as? Bool == false)

        let list = try await keel(["template", "list", "--json"], database: database)
        #expect((list.json as? [[String: Any]])?.map { $0["name"] as? String } == ["reviewed-change"])

        let show = try await keel(["template", "show", "reviewed-change", "--json"], database: database)
        #expect(
            ((show.json as? [String: Any])?["source"] as? String)?.contains("template: reviewed-change")
                == true)

        let created = try await keel(
            [
                "flow", "create", "payments-change", "--from-template", "reviewed-change", "--set",
                "reviewers=payments",
                "--set", #"test_command=["make","test-payments"]"#, "--set", "patch_attempts=2", "--json",
            ], database: database)
        #expect(created.status == 0)
        let createdBody = try #require(created.json as? [String: Any])
        #expect(createdBody["created"] as? Bool == true)
        #expect(createdBody["template"] as? String == "reviewed-change")
        #expect(createdBody["templateVersion"] as? Int == 1)
        let values = try #require(createdBody["values"] as? [String: Any])
        #expect(values["reviewers"] as? String == "payments")
        #expect(values["patch_attempts"] as? Int == 2)
        #expect(values["review_timeout"] as? String == "24h")
        let version = try #require(createdBody["version"] as? [String: Any])
        #expect(version["flow"] as? String == "payments-change")
        #expect(version["version"] as? Int == 1)

        // An ordinary draft: shown, validated and released like any flow, with no parameters left.
        let flow = try await keel(["flow", "show", "payments-change", "--json"], database: database)
        let flowBody = try #require(flow.json as? [String: Any])
        #expect(flowBody["live"] as? Bool == false)
        #expect(flowBody["secrets"] as? [String] == [])
        let source = try #require((flowBody["version"] as? [String: Any])?["source"] as? String)
        #expect(source.contains("- test-payments"))
        #expect(source.contains("group:payments"))
        #expect(!source.contains("params."))
        let file = try temporaryFile(source)
        let validated = try await keel(["flow", "validate", "--json", file])
        #expect(
            (validated.json as? [[String: Any]])?.first?["sha256"] as? String == version["sha256"] as? String)
        let released = try await keel(["flow", "release", "payments-change", "--json"], database: database)
        #expect(released.status == 0)

        try await database.drop()
    }

    @Test func badValuesUnknownTemplatesAndBadTemplatesAreUserErrors() async throws {
        let database = try await TestDatabase.create()
        let migrate = try await ServiceProcess.run(
            "keel", arguments: ["migrate", "--database-url", database.url])
        try #require(migrate.status == 0, "\(migrate.output)")
        _ = try await keel(["template", "publish", template], database: database)

        let bad = try await keel(
            [
                "flow", "create", "x", "--from-template", "reviewed-change", "--set", "reviewers=Not Valid",
                "--set",
                "reviewer=a", "--json",
            ], database: database)
        #expect(bad.status == 1)
        let error = try #require((bad.json as? [String: Any])?["error"] as? String)
        #expect(
            error.contains("parameters.reviewer: unknown parameter 'reviewer'; did you mean 'reviewers'?"))
        #expect(error.contains("parameters.reviewers: the value does not match the parameter's schema"))

        let missing = try await keel(
            ["flow", "create", "x", "--from-template", "reviewed-change"], database: database)
        #expect(missing.status == 1)

        let unknown = try await keel(
            ["flow", "create", "x", "--from-template", "nope", "--json"], database: database)
        #expect(unknown.status == 1)
        #expect((unknown.json as? [String: Any])?["error"] as? String == "no template named 'nope'")

        let malformed = try await keel([
            "flow", "create", "x", "--from-template", "reviewed-change", "--set", "novalue",
        ])
        #expect(malformed.status == 1)

        let broken = try temporaryFile(
            "template: t\nparameters: {a: {type: string, default: x}}\nsteps: [{id: s, noop: {}, timeout: \"${{ params.b }}\"}]\n"
        )
        let refused = try await keel(["template", "publish", "--json", broken], database: database)
        #expect(refused.status == 1)
        let refusal = try #require((refused.json as? [String: Any])?["error"] as? String)
        #expect(refusal.contains(":3:"))
        #expect(refusal.contains("unknown parameter 'b'"))
        #expect(refusal.contains("parameter 'a' is declared but no"))

        let listed = try await keel(["template", "list", "--json"], database: database)
        #expect((listed.json as? [[String: Any]])?.count == 1)
        try await database.drop()
    }

    @Test func docsDescribeEveryCommand() async throws {
        let result = try await ServiceProcess.run("keel", arguments: ["docs"])
        #expect(result.status == 0)
        let headings = result.output.split(separator: "\n").filter { $0.hasPrefix("## ") }.map {
            $0.dropFirst(3)
        }
        for command in [
            "keel migrate", "keel status", "keel flow validate", "keel flow push", "keel flow list",
            "keel flow show",
            "keel flow versions", "keel flow release", "keel flow rollback", "keel flow diff",
            "keel flow create",
            "keel template publish", "keel template list", "keel template show", "keel docs",
        ] {
            #expect(headings.contains(Substring(command)), "keel docs has no section for \(command)")
        }
        #expect(result.output.contains("USAGE: keel flow create <name> --from-template <from-template>"))
        #expect(result.output.contains("Exit codes: 0 success, 1 user error"))

        let part = try await ServiceProcess.run("keel", arguments: ["docs", "template"])
        #expect(part.output.contains("## keel template publish"))
        #expect(!part.output.contains("## keel flow push"))
        let none = try await ServiceProcess.run("keel", arguments: ["docs", "nothing"])
        #expect(none.status == 1)
        let structured = try await keel(["docs", "--json", "flow", "create"])
        let entries = try #require(structured.json as? [[String: Any]])
        #expect(entries.map { $0["command"] as? String } == ["keel flow create"])
        #expect((entries.first?["help"] as? String)?.contains("--from-template") == true)
    }
}
