import Foundation
public import PGClient

/// Published flow templates: immutable versions numbered per template, deduplicated by content.
///
/// Publishing content whose canonical hash is already stored returns that version. Flows created from
/// a template are ordinary drafts in `FlowStore`; nothing links them back except their source header.
public struct TemplateStore: Sendable {
    let pool: PGPool

    public init(pool: PGPool) {
        self.pool = pool
    }

    /// The outcome of a publish: the stored version, and whether this publish created it.
    public struct PublishResult: Sendable, Hashable, Codable {
        public var template: TemplateVersionRecord
        public var created: Bool
    }

    /// Stores a template version unless the same canonical content is already stored.
    ///
    /// Concurrent publishes of one template serialise on a transaction-scoped advisory lock on its
    /// name, so version numbers have no gaps or duplicates.
    public func publish(
        template: String, sha256: String, parameters: [TemplateParameterRecord], canonicalJSON: String,
        source: String, author: String
    ) async throws -> PublishResult {
        let parametersJSON = try JSONEncoder().encode(parameters)
        return try await pool.withTransaction { connection in
            try await connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('keel.template:' || \(template), 0))")
            if let existing = try await connection.query(
                "\(unescaped: Self.columns) FROM flow_templates WHERE name = \(template) AND sha256 = \(sha256)"
            ).first {
                return PublishResult(template: try Self.record(existing), created: false)
            }
            let next =
                try await connection.query(
                    "SELECT COALESCE(max(version), 0)::int8 + 1 FROM flow_templates WHERE name = \(template)"
                ).first?.decode((Int).self) ?? 1
            let rows = try await connection.query(
                """
                INSERT INTO flow_templates (name, version, sha256, parameters, definition, source, author)
                VALUES (\(template), \(next), \(sha256), \(PGJSON(bytes: Array(parametersJSON))),
                        \(PGJSON(canonicalJSON)), \(source), \(author))
                RETURNING \(unescaped: Self.columnList)
                """)
            guard let row = rows.first else {
                throw PGError(code: .protocolViolation, message: "INSERT ... RETURNING returned no row")
            }
            return PublishResult(template: try Self.record(row), created: true)
        }
    }

    /// One version of a template; the newest when `version` is nil.
    public func version(template: String, number: Int? = nil) async throws -> TemplateVersionRecord {
        try await pool.withConnection { connection in
            let rows: [PGRow]
            if let number {
                rows = try await connection.query(
                    "\(unescaped: Self.columns) FROM flow_templates WHERE name = \(template) AND version = \(number)"
                )
            } else {
                rows = try await connection.query(
                    "\(unescaped: Self.columns) FROM flow_templates WHERE name = \(template) ORDER BY version DESC LIMIT 1"
                )
            }
            if let row = rows.first { return try Self.record(row) }
            guard let number else { throw FlowStoreError.unknownTemplate(template) }
            let known = try await connection.query(
                "SELECT 1 FROM flow_templates WHERE name = \(template) LIMIT 1")
            throw known.isEmpty
                ? FlowStoreError.unknownTemplate(template)
                : FlowStoreError.unknownTemplateVersion(template: template, version: number)
        }
    }

    /// Every template's newest version, by name.
    public func list() async throws -> [TemplateVersionRecord] {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT DISTINCT ON (name) \(unescaped: Self.columnList)
                FROM flow_templates ORDER BY name, version DESC
                """
            ).map(Self.record)
        }
    }

    static let columnList = "name, version, sha256, parameters, source, author, created_at"
    static let columns = "SELECT " + columnList

    static func record(_ row: PGRow) throws -> TemplateVersionRecord {
        let (name, version, sha256, parameters, source, author, createdAt) = try row.decode(
            (String, Int, String, PGJSON, String, String, Date).self)
        return TemplateVersionRecord(
            name: name, version: version, sha256: sha256,
            parameters: try parameters.decode([TemplateParameterRecord].self), source: source,
            author: author, createdAt: createdAt)
    }
}
