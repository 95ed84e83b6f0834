import Foundation
import KeelStore
import KeelTestSupport
import Testing

/// `keel token ...` as an administrator runs it: the real executable against the real PostgreSQL. The
/// token is printed once and works; listing never shows a secret; revoking makes it fail at once.
@Suite struct TokenCLITests: KeelCLITesting {
    @Test func createPrintsAWorkingTokenOnceAndListNeverShowsIt() async throws {
        let database = try await TestDatabase.create()
        let migrate = try await keel(["migrate"], database: database)
        try #require(migrate.status == 0)
        let pool = try database.pool(size: 1)

        // Text: the token alone on the first line (for TOKEN=$(keel token create ...)), the reminder on
        // standard error (the test captures both streams together).
        let text = try await ServiceProcess.run(
            "keel",
            arguments: [
                "token", "create", "--name", "ana", "--role", "approver", "--group", "reviewers",
                "--group", "group:db",
            ],
            environment: ["KEEL_DATABASE_URL": database.url, "USER": "root-admin"])
        #expect(text.status == 0, "\(text.output)")
        let lines = text.output.split(separator: "\n").map(String.init)
        let token = try #require(lines.first)
        #expect(token.hasPrefix("keel_") && token.count == "keel_".count + 16 + 1 + 43)
        #expect(lines.dropFirst().contains { $0.contains("shown only once") })
        #expect(lines.dropFirst().allSatisfy { !$0.contains(token) })

        let holder = try #require(try await APITokenStore(pool: pool).authenticate(token))
        #expect(holder.name == "ana" && holder.role == .approver)
        #expect(holder.groups == ["db", "reviewers"])
        #expect(holder.createdBy == "root-admin")

        // JSON: the token once, with the record's fields.
        let json = try await keel(
            ["token", "create", "--name", "deploy-bot", "--role", "operator", "--json"], database: database)
        #expect(json.status == 0)
        let created = try #require(json.json as? [String: Any])
        let botToken = try #require(created["token"] as? String)
        #expect(created["name"] as? String == "deploy-bot")
        #expect(created["role"] as? String == "operator")
        #expect((created["note"] as? String)?.contains("only once") == true)
        #expect(try await APITokenStore(pool: pool).authenticate(botToken)?.name == "deploy-bot")

        let list = try await ServiceProcess.run(
            "keel", arguments: ["token", "list", "--json"], environment: ["KEEL_DATABASE_URL": database.url])
        #expect(list.status == 0)
        let listed = try #require(
            try JSONSerialization.jsonObject(with: Data(list.output.utf8)) as? [[String: Any]])
        #expect(listed.compactMap { $0["name"] as? String }.sorted() == ["ana", "deploy-bot"])
        #expect(listed.allSatisfy { $0["token"] == nil })
        // Neither the secret nor any part of it after the public id shows up.
        for secret in [token, botToken] {
            let secretPart = String(secret.split(separator: "_", maxSplits: 2)[2])
            #expect(!list.output.contains(secretPart))
        }
        let listText = try await ServiceProcess.run(
            "keel", arguments: ["token", "list"], environment: ["KEEL_DATABASE_URL": database.url])
        #expect(listText.output.contains("ana") && listText.output.contains("db,reviewers"))
        #expect(!listText.output.contains(String(token.split(separator: "_", maxSplits: 2)[2])))

        await pool.close()
        try await database.drop()
    }

    @Test func aTakenNameInvalidInputAndRevocationAreClear() async throws {
        let database = try await TestDatabase.create()
        try #require(try await keel(["migrate"], database: database).status == 0)
        let pool = try database.pool(size: 1)

        let first = try await keel(
            ["token", "create", "--name", "ana", "--role", "admin", "--json"], database: database)
        let token = try #require((first.json as? [String: Any])?["token"] as? String)

        let taken = try await keel(
            ["token", "create", "--name", "ana", "--role", "approver", "--json"], database: database)
        #expect(taken.status == 1)
        #expect(((taken.json as? [String: Any])?["error"] as? String)?.contains("'ana' exists") == true)

        let badRole = try await keel(
            ["token", "create", "--name", "bo", "--role", "root", "--json"], database: database)
        #expect(badRole.status == 1)
        #expect(
            ((badRole.json as? [String: Any])?["error"] as? String)?.contains("approver, operator, admin")
                == true)

        let badName = try await keel(
            ["token", "create", "--name", "ana silva", "--role", "approver", "--json"], database: database)
        #expect(badName.status == 1)
        #expect(((badName.json as? [String: Any])?["error"] as? String)?.hasPrefix("--name") == true)

        let revoke = try await keel(["token", "revoke", "ana", "--json"], database: database)
        #expect(revoke.status == 0)
        #expect((revoke.json as? [String: Any])?["revoked"] as? Bool == true)
        #expect(try await APITokenStore(pool: pool).authenticate(token) == nil)

        let again = try await keel(["token", "revoke", "ana", "--json"], database: database)
        #expect(again.status == 1)
        #expect(
            ((again.json as? [String: Any])?["error"] as? String)?.contains("no live token named 'ana'")
                == true)

        // The name stays taken: decisions made with the revoked token still name it.
        let reuse = try await keel(
            ["token", "create", "--name", "ana", "--role", "approver", "--json"], database: database)
        #expect(reuse.status == 1)
        #expect(((reuse.json as? [String: Any])?["error"] as? String)?.contains("keeps its name") == true)

        let list = try await keel(["token", "list", "--json"], database: database)
        let ana = try #require((list.json as? [[String: Any]])?.first { $0["name"] as? String == "ana" })
        #expect(ana["revokedAt"] is String)

        await pool.close()
        try await database.drop()
    }
}

/// The token and approval commands are in `keel docs` like every other command.
@Suite struct TokenAndApprovalDocsTests {
    @Test func keelDocsDescribesTheTokenAndApprovalCommands() async throws {
        let result = try await ServiceProcess.run("keel", arguments: ["docs"])
        #expect(result.status == 0)
        let headings = result.output.split(separator: "\n").filter { $0.hasPrefix("## ") }.map {
            String($0.dropFirst(3))
        }
        for command in [
            "keel token create", "keel token list", "keel token revoke", "keel approvals list",
            "keel approvals show", "keel approve", "keel reject", "keel request-changes",
        ] {
            #expect(headings.contains(command), "keel docs has no section for \(command)")
        }
        #expect(result.output.contains("USAGE: keel token create --name <name> --role <role>"))
        #expect(result.output.contains("KEEL_API_TOKEN"))
    }
}
