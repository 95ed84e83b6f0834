import Foundation
import KeelCore
public import PGClient

/// Flows, their versions and their releases in PostgreSQL.
///
/// Versions are immutable and numbered per flow; pushing content whose canonical hash is already stored
/// returns that version instead of adding one. Releasing makes a version live; rolling back undoes the
/// latest release still in effect. Every release and rollback is recorded with who, when, from and to.
public struct FlowStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// The outcome of a push: the stored version, and whether this push created it.
    public struct PushResult: Sendable, Hashable, Codable {
        public var version: FlowVersionRecord
        public var created: Bool
    }

    /// Stores a draft version of `flow` unless the same canonical content is already stored.
    ///
    /// Concurrent pushes to one flow serialise on the flow's row, so version numbers have no gaps or
    /// duplicates; concurrent pushes of the same content store it once.
    public func push(
        flow: String, description: String, canonicalJSON: String, sha256: String, source: String,
        author: String
    ) async throws -> PushResult {
        try await pool.withTransaction { connection in
            try await connection.execute(
                """
                INSERT INTO flows (name, description) VALUES (\(flow), \(description))
                ON CONFLICT (name) DO NOTHING
                """)
            // Lock the flow so version numbering is serial.
            try await connection.execute("SELECT 1 FROM flows WHERE name = \(flow) FOR UPDATE")
            if let existing = try await connection.query(
                "\(unescaped: Self.versionColumns) FROM flow_versions WHERE flow = \(flow) AND sha256 = \(sha256)"
            ).first {
                return PushResult(version: try Self.versionRecord(existing), created: false)
            }
            let next =
                try await connection.query(
                    "SELECT COALESCE(max(version), 0)::int8 + 1 FROM flow_versions WHERE flow = \(flow)"
                ).first?.decode((Int).self) ?? 1
            let row = try await connection.query(
                """
                INSERT INTO flow_versions (flow, version, sha256, definition, source, author)
                VALUES (\(flow), \(next), \(sha256), \(PGJSON(canonicalJSON)), \(source), \(author))
                RETURNING flow, version, sha256, definition, source, author, created_at
                """)
            try await connection.execute(
                "UPDATE flows SET description = \(description), updated_at = now() WHERE name = \(flow)")
            guard let inserted = row.first else {
                throw PGError(code: .protocolViolation, message: "INSERT ... RETURNING returned no row")
            }
            return PushResult(version: try Self.versionRecord(inserted), created: true)
        }
    }

    /// Makes a version live (the newest when `version` is nil) and records the release.
    @discardableResult
    public func release(
        flow: String, version: Int?, actor: String, reason: String? = nil
    ) async throws -> FlowReleaseRecord {
        try await pool.withTransaction { connection in
            let live = try await lockFlow(flow, on: connection)
            let target: Int
            if let version {
                let exists = try await connection.query(
                    "SELECT 1 FROM flow_versions WHERE flow = \(flow) AND version = \(version)")
                guard !exists.isEmpty else {
                    throw FlowStoreError.unknownVersion(flow: flow, version: version)
                }
                target = version
            } else {
                target =
                    try await connection.query(
                        "SELECT max(version)::int8 FROM flow_versions WHERE flow = \(flow)"
                    ).first?.decode((Int).self) ?? 0
            }
            if live == target { throw FlowStoreError.alreadyLive(flow: flow, version: target) }
            return try await makeLive(
                flow: flow, from: live, to: target, kind: .release, actor: actor, reason: reason,
                on: connection)
        }
    }

    /// Undoes the latest release still in effect: the version live before it becomes live again.
    ///
    /// Releases form a stack: a release pushes a version, a rollback pops one. Rolling back twice after
    /// releasing v2 then v3 makes v1 live.
    @discardableResult
    public func rollback(flow: String, actor: String, reason: String? = nil) async throws -> FlowReleaseRecord
    {
        try await pool.withTransaction { connection in
            let live = try await lockFlow(flow, on: connection)
            var stack: [Int] = []
            for record in try await releases(flow: flow, on: connection) {
                switch record.kind {
                case .release: stack.append(record.toVersion)
                case .rollback: if !stack.isEmpty { stack.removeLast() }
                }
            }
            guard let current = live, stack.last == current, stack.count >= 2 else {
                throw FlowStoreError.nothingToRollBack(flow: flow)
            }
            return try await makeLive(
                flow: flow, from: current, to: stack[stack.count - 2], kind: .rollback, actor: actor,
                reason: reason, on: connection)
        }
    }

    /// The version a new run of `flow` pins: the live release, or the named draft version.
    public func resolve(flow: String, draft: Int? = nil) async throws -> FlowVersionRecord {
        try await pool.withConnection { connection in
            let flowRow = try await connection.query("SELECT live_version FROM flows WHERE name = \(flow)")
            guard let flowRow = flowRow.first else { throw FlowStoreError.unknownFlow(flow) }
            let number: Int
            if let draft {
                number = draft
            } else {
                // Annotated: a one-type pack of an optional, bound by `guard let`, would be wrapped once more.
                let live: Int? = try flowRow.decode((Int?).self)
                guard let live else {
                    throw FlowStoreError.noLiveRelease(flow: flow)
                }
                number = live
            }
            guard let record = try await version(flow: flow, number: number, on: connection) else {
                throw FlowStoreError.unknownVersion(flow: flow, version: number)
            }
            return record
        }
    }

    /// One version of a flow.
    public func version(flow: String, number: Int) async throws -> FlowVersionRecord {
        try await pool.withConnection { connection in
            try await assertFlowExists(flow, on: connection)
            guard let record = try await version(flow: flow, number: number, on: connection) else {
                throw FlowStoreError.unknownVersion(flow: flow, version: number)
            }
            return record
        }
    }

    /// Every version of a flow, oldest first.
    public func versions(flow: String) async throws -> [FlowVersionRecord] {
        try await pool.withConnection { connection in
            try await assertFlowExists(flow, on: connection)
            return try await connection.query(
                "\(unescaped: Self.versionColumns) FROM flow_versions WHERE flow = \(flow) ORDER BY version"
            ).map(Self.versionRecord)
        }
    }

    /// Every flow with its live and newest version, by name.
    public func list() async throws -> [FlowSummary] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT f.name, f.description, f.live_version, max(v.version)::int8, f.updated_at
                FROM flows f JOIN flow_versions v ON v.flow = f.name
                GROUP BY f.name ORDER BY f.name
                """
            ).map { row in
                let (name, description, liveVersion, latestVersion, updatedAt) = try row.decode(
                    (String, String, Int?, Int, Date).self)
                return FlowSummary(
                    name: name, description: description, liveVersion: liveVersion,
                    latestVersion: latestVersion, updatedAt: updatedAt)
            }
        }
    }

    /// The flow's release history, oldest first.
    public func releases(flow: String) async throws -> [FlowReleaseRecord] {
        try await pool.withConnection { connection in
            try await assertFlowExists(flow, on: connection)
            return try await releases(flow: flow, on: connection)
        }
    }

    // MARK: - Within a transaction

    /// Locks the flow's row and returns its live version.
    func lockFlow(_ flow: String, on connection: PGConnection) async throws -> Int? {
        let rows = try await connection.query(
            "SELECT live_version FROM flows WHERE name = \(flow) FOR UPDATE")
        guard let row = rows.first else { throw FlowStoreError.unknownFlow(flow) }
        return try row.decode((Int?).self)
    }

    func makeLive(
        flow: String, from: Int?, to: Int, kind: FlowReleaseRecord.Kind, actor: String, reason: String?,
        on connection: PGConnection
    ) async throws -> FlowReleaseRecord {
        try await connection.execute(
            "UPDATE flows SET live_version = \(to), updated_at = now() WHERE name = \(flow)")
        let rows = try await connection.query(
            """
            INSERT INTO flow_releases (flow, from_version, to_version, kind, actor, reason)
            VALUES (\(flow), \(from), \(to), \(kind.rawValue), \(actor), \(reason))
            RETURNING \(unescaped: Self.releaseColumnList)
            """)
        guard let row = rows.first else {
            throw PGError(code: .protocolViolation, message: "INSERT ... RETURNING returned no row")
        }
        // The version's schedules become the live ones, in the same transaction as the release.
        // Only the `schedules` member is read (each in its stored canonical form), so a release does not
        // depend on this build understanding every other field of the version.
        if let record = try await version(flow: flow, number: to, on: connection) {
            let specifications =
                try JSONValue(parsing: record.definition).objectValue?["schedules"]?.arrayValue ?? []
            let schedules = try specifications.map { try FlowSchedule(specification: $0) }
            try await ScheduleStore.replace(
                flow: flow, version: to, schedules: schedules, now: Date(), on: connection)
        }
        return try Self.releaseRecord(row)
    }

    func assertFlowExists(_ flow: String, on connection: PGConnection) async throws {
        let rows = try await connection.query("SELECT 1 FROM flows WHERE name = \(flow)")
        if rows.isEmpty { throw FlowStoreError.unknownFlow(flow) }
    }

    func version(flow: String, number: Int, on connection: PGConnection) async throws -> FlowVersionRecord? {
        try await connection.query(
            "\(unescaped: Self.versionColumns) FROM flow_versions WHERE flow = \(flow) AND version = \(number)"
        ).first.map(Self.versionRecord)
    }

    func releases(flow: String, on connection: PGConnection) async throws -> [FlowReleaseRecord] {
        try await connection.query(
            "SELECT \(unescaped: Self.releaseColumnList) FROM flow_releases WHERE flow = \(flow) ORDER BY id"
        ).map(Self.releaseRecord)
    }

    static let versionColumns = "SELECT flow, version, sha256, definition, source, author, created_at"
    static let releaseColumnList = "id, flow, from_version, to_version, kind, actor, reason, created_at"

    static func versionRecord(_ row: PGRow) throws -> FlowVersionRecord {
        let (flow, version, sha256, definition, source, author, createdAt) = try row.decode(
            (String, Int, String, PGJSON, String, String, Date).self)
        return FlowVersionRecord(
            flow: flow, version: version, sha256: sha256, definition: definition.text, source: source,
            author: author, createdAt: createdAt)
    }

    static func releaseRecord(_ row: PGRow) throws -> FlowReleaseRecord {
        let (id, flow, fromVersion, toVersion, kind, actor, reason, createdAt) = try row.decode(
            (Int64, String, Int?, Int, String, String, String?, Date).self)
        guard let parsedKind = FlowReleaseRecord.Kind(rawValue: kind) else {
            throw PGError(code: .decoding, message: "unknown release kind '\(kind)'")
        }
        return FlowReleaseRecord(
            id: id, flow: flow, fromVersion: fromVersion, toVersion: toVersion, kind: parsedKind,
            actor: actor, reason: reason, createdAt: createdAt)
    }
}
