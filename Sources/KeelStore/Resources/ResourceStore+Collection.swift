public import Foundation
import PGClient

/// What a collection removed (or, in a dry run, would remove).
public struct ResourceCollectionReport: Sendable, Hashable, Codable {
    public var cutoff: Date
    public var dryRun: Bool
    /// Resource rows removed.
    public var resources: Int
    /// Contents no longer named by any resource, removed with their bytes.
    public var contents: Int
    public var bytes: Int64
    /// Staging of killed uploads removed.
    public var abandonedUploads: Int
}

extension ResourceStore {
    /// Removes resources whose run finished before `cutoff`, and unattached resources created before it,
    /// except those retained as `keep`; then the content no longer named by any resource.
    ///
    /// A resource of a run that has not finished is kept however old it is, and so is its content.
    /// Each content is deleted in its own transaction that locks its row and checks again that nothing
    /// names it: `put` locks the same row while it adds a name, so an upload of the same content at the
    /// same moment either finds the content gone and stores it afresh, or keeps it.
    ///
    /// - Parameter abandonedUploadsBefore: staging of uploads started before this is removed; it must be
    ///   older than any upload still running (default: a day before now).
    public func collect(
        finishedBefore cutoff: Date, dryRun: Bool = false, abandonedUploadsBefore: Date? = nil
    ) async throws -> ResourceCollectionReport {
        let doomed = """
            FROM resources r
            WHERE r.retention <> 'keep' AND (
                EXISTS (SELECT 1 FROM runs u WHERE u.id = r.run_id AND u.finished_at < $1)
                OR (r.created_at < $1 AND NOT EXISTS (SELECT 1 FROM runs u WHERE u.id = r.run_id)))
            """
        var report = ResourceCollectionReport(
            cutoff: cutoff, dryRun: dryRun, resources: 0, contents: 0, bytes: 0, abandonedUploads: 0)
        if dryRun {
            return try await pool.withConnection { connection in
                var binds = PGBindings()
                binds.append(cutoff)
                report.resources =
                    try await connection.query(PGQuery("SELECT count(*)::int8 \(doomed)", binds: binds))
                    .first?.decode((Int).self) ?? 0
                let freed = try await connection.query(
                    PGQuery(
                        """
                        SELECT count(*)::int8, COALESCE(sum(c.size), 0)::int8 FROM resource_contents c
                        WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.sha256 = c.sha256
                            AND r.id NOT IN (SELECT r.id \(doomed)))
                        """, binds: binds))
                (report.contents, report.bytes) = try freed.first?.decode((Int, Int64).self) ?? (0, 0)
                return report
            }
        }
        report.resources = try await pool.withConnection { connection in
            var binds = PGBindings()
            binds.append(cutoff)
            return try await connection.execute(PGQuery("DELETE \(doomed)", binds: binds)).affectedRows
        }
        let candidates = try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT c.sha256 FROM resource_contents c
                WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.sha256 = c.sha256)
                """
            ).map { try $0.decode((String).self) }
        }
        for sha256 in candidates {
            try Task.checkCancellation()
            if let size = try await removeContentIfUnnamed(sha256) {
                report.contents += 1
                report.bytes += size
            }
        }
        let staleBefore = abandonedUploadsBefore ?? Date().addingTimeInterval(-86_400)
        report.abandonedUploads = try await contents.removeAbandonedUploads(
            startedBefore: staleBefore, pool: pool)
        if let directory, directory.backend != contents.backend {
            report.abandonedUploads += try await directory.removeAbandonedUploads(
                startedBefore: staleBefore, pool: pool)
        } else if contents.backend != .postgres {
            report.abandonedUploads += try await PostgresContentStore(pool: pool).removeAbandonedUploads(
                startedBefore: staleBefore, pool: pool)
        }
        return report
    }

    /// Deletes one content and its bytes if, once its row is locked, no resource names it. Returns its size.
    private func removeContentIfUnnamed(_ sha256: String) async throws -> Int64? {
        let store = self
        var afterCommit: (@Sendable (Bool) async -> Void)?
        do {
            let size = try await pool.withTransaction { connection -> Int64? in
                afterCommit = nil
                guard
                    let row = try await connection.query(
                        "SELECT sha256, size, backend, blob_id FROM resource_contents WHERE sha256 = \(sha256) FOR UPDATE"
                    ).first
                else { return nil }
                // A new statement, so a fresh snapshot: it sees a name committed while we waited for the lock.
                let named = try await connection.query(
                    "SELECT 1 FROM resources WHERE sha256 = \(sha256) LIMIT 1")
                guard named.isEmpty else { return nil }
                let content = try Self.content(row)
                try await connection.execute("DELETE FROM resource_contents WHERE sha256 = \(sha256)")
                afterCommit = try await store.store(for: content.backend).remove(content, on: connection)
                return content.size
            }
            await afterCommit?(true)
            return size
        } catch {
            await afterCommit?(false)
            throw error
        }
    }
}
