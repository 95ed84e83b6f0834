import Foundation
import KeelStore
import KeelTestSupport
import PGClient
import Testing

/// API tokens against the real PostgreSQL: shown once, stored hashed, refused when forged or revoked.
@Suite struct APITokenStoreTests {
    @Test func aCreatedTokenAuthenticatesItsHolderAndOnlyItsHashIsStored() async throws {
        try await withMigratedDatabase { pool in
            let store = APITokenStore(pool: pool)
            let issued = try await store.create(
                name: "ana", role: .approver, groups: ["reviewers", "db"], createdBy: "admin")
            #expect(issued.token.hasPrefix("keel_\(issued.record.id)_"))
            let holder = try #require(try await store.authenticate(issued.token))
            #expect(holder.name == "ana" && holder.role == .approver && holder.groups == ["db", "reviewers"])
            #expect(holder.lastUsedAt != nil)
            // Nothing stored contains the secret.
            let secret = String(issued.token.split(separator: "_", maxSplits: 2)[2])
            let stored = try await pool.withConnection { connection in
                try await connection.query("SELECT row_to_json(t)::text FROM api_tokens t").map {
                    try $0.decode((String).self)
                }
            }
            #expect(stored.count == 1 && !stored[0].contains(secret))
            await #expect(throws: APITokenError.nameTaken("ana")) {
                try await store.create(name: "ana", role: .admin, createdBy: "admin")
            }
        }
    }

    @Test func forgedMalformedAndRevokedTokensAreRefused() async throws {
        try await withMigratedDatabase { pool in
            let store = APITokenStore(pool: pool)
            let issued = try await store.create(name: "bob", role: .operator, createdBy: "admin")
            var forged = Array(issued.token)
            forged[forged.count - 1] = forged.last == "A" ? "B" : "A"
            let other = try await store.create(name: "eve", role: .approver, createdBy: "admin")
            let spliced =
                "keel_\(issued.record.id)_" + String(other.token.split(separator: "_", maxSplits: 2)[2])
            for candidate in [
                String(forged), spliced, "", "keel_", "Bearer \(issued.token)", issued.token + "x",
                "keel_\(issued.record.id.uppercased())_"
                    + String(issued.token.split(separator: "_", maxSplits: 2)[2]),
            ] {
                #expect(try await store.authenticate(candidate) == nil, "accepted: \(candidate.prefix(20))")
            }
            #expect(try await store.revoke(name: "bob"))
            #expect(try await store.authenticate(issued.token) == nil)
            #expect(try await store.revoke(name: "bob") == false)
            #expect(try await store.authenticate(other.token)?.name == "eve")
            #expect(try await store.list().map(\.name).sorted() == ["bob", "eve"])
        }
    }
}
