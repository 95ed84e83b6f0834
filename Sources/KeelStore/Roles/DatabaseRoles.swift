public import PGClient

/// Creates Keel's group roles and gives each exactly the grants `DatabasePrivileges` lists; adds and
/// removes the logins that connect through them.
///
/// Roles belong to the whole PostgreSQL server and grants to one database, so `grant(on:)` runs after
/// every migration of every database (idempotent: privileges are revoked and granted again, in the
/// migration's transaction), and several databases migrating at once may race to create a role: the
/// loser's duplicate is ignored. Creating roles needs `CREATEROLE` for the role that migrates.
public enum DatabaseRoles {
    /// Creates the roles missing from the server, then makes each role's privileges on this database's
    /// tables exactly its grants.
    public static func grant(on connection: PGConnection) async throws {
        try await createRoles(on: connection)
        try await connection.executeScript(script())
    }

    /// Creates the roles missing from the server, without grants.
    public static func createRoles(on connection: PGConnection) async throws {
        for role in DatabaseRole.allCases {
            try await connection.executeScript(
                """
                DO $$ BEGIN
                    CREATE ROLE \(role.name) NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END $$
                """)
        }
    }

    /// The revokes and grants for this schema, as one script (one round trip, one transaction).
    static func script() -> String {
        // Replicas running `keel migrate` together would otherwise race on the same catalog rows.
        var lines = ["BEGIN;", "SELECT pg_advisory_xact_lock(\(Migrator.lockKey));"]
        for role in DatabaseRole.allCases {
            lines.append("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \(role.name);")
            for (table, privileges) in DatabasePrivileges.grants(of: role).sorted(by: { $0.key < $1.key }) {
                let list = privileges.map(\.sql).sorted().joined(separator: ", ")
                lines.append("GRANT \(list) ON \(table) TO \(role.name);")
            }
        }
        lines.append("COMMIT;")
        return lines.joined(separator: "\n")
    }

    /// Creates `login` as a member of `role` with `password`, or, when it exists, sets its password and
    /// adds the membership: the same command rotates a password.
    ///
    /// The password leaves this process only as a SCRAM-SHA-256 verifier computed here, and the verifier
    /// only as a bound parameter of a session-local function (`ALTER ROLE` takes no parameters), so
    /// neither reaches a log line, an error's SQL text or `pg_stat_statements`.
    public static func addLogin(
        _ login: String, to role: DatabaseRole, password: String, on connection: PGConnection
    )
        async throws
    {
        try LoginName.validate(login)
        let verifier = try await connection.encryptedPassword(password, user: login)
        try await connection.executeScript(
            """
            CREATE OR REPLACE FUNCTION pg_temp.keel_add_login(login text, verifier text, grp text)
            RETURNS void LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT FROM pg_roles WHERE rolname = login) THEN
                    EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', login, verifier);
                ELSE
                    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', login, verifier);
                END IF;
                EXECUTE format('GRANT %I TO %I', grp, login);
            END $$
            """)
        try await connection.execute("SELECT pg_temp.keel_add_login(\(login), \(verifier), \(role.name))")
    }

    /// Drops `login`, which must be a login in one of Keel's roles (so this never drops the owner or
    /// someone else's role). Its sessions keep running until they end: terminate them to cut access at once.
    public static func removeLogin(_ login: String, on connection: PGConnection) async throws {
        try LoginName.validate(login)
        guard try await logins(on: connection).contains(where: { $0.login == login }) else {
            throw LoginName.NotKeels(name: login)
        }
        try await connection.executeScript("DROP ROLE \(login)")
    }

    /// Every login that is a member of one of Keel's roles, with that role.
    public static func logins(on connection: PGConnection) async throws -> [(
        login: String, role: DatabaseRole
    )] {
        let names = DatabaseRole.allCases.map(\.name)
        let rows = try await connection.query(
            """
            SELECT m.rolname, g.rolname FROM pg_auth_members a
            JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
            WHERE g.rolname = ANY(\(names)) AND m.rolcanlogin ORDER BY 1, 2
            """)
        return try rows.compactMap { row in
            let (login, group) = try row.decode((String, String).self)
            return DatabaseRole.allCases.first { $0.name == group }.map { (login, $0) }
        }
    }
}

/// A login's name, checked before it is spliced into `CREATE ROLE` (identifiers cannot be bound).
enum LoginName {
    struct Invalid: Error, CustomStringConvertible {
        var name: String
        var description: String {
            "a login name is 1 to 63 lowercase letters, digits and underscores, starting with a letter: "
                + "'\(name.prefix(80))' is not"
        }
    }

    struct NotKeels: Error, CustomStringConvertible {
        var name: String
        var description: String { "'\(name)' is not a login in any of Keel's roles" }
    }

    static func validate(_ name: String) throws {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), let first = bytes.first,
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
            bytes.allSatisfy({
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || $0 == UInt8(ascii: "_")
            }),
            !name.hasPrefix("pg_"), !DatabaseRole.allCases.contains(where: { $0.name == name })
        else { throw Invalid(name: name) }
    }
}
