import Foundation
import PGClient

/// What PostgreSQL executed, from `pg_stat_statements` (the project's server loads it; see
/// scripts/servers/postgres.sh): calls and execution time per normalized statement, so a delta over the
/// engine phase says how many statements a step costs and which ones take the server's time.
struct StatementStatistics {
    struct Entry {
        var query: String
        var calls: Int
        var milliseconds: Double
    }

    /// Keyed by queryid.
    var entries: [Int64: Entry]

    /// Nil when the extension is not there (a server not started by the project's scripts).
    static func read(_ pool: PGPool) async throws -> StatementStatistics? {
        try await pool.withConnection { connection in
            let present = try await connection.query(
                "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
            guard !present.isEmpty else { return nil }
            let rows = try await connection.query(
                """
                SELECT queryid, left(regexp_replace(query, '\\s+', ' ', 'g'), 90), calls::int8, total_exec_time
                FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND queryid IS NOT NULL
                """)
            var entries: [Int64: Entry] = [:]
            for row in rows {
                let id = try row.decode(Int64.self, at: 0)
                let entry = Entry(
                    query: try row.decode(String.self, at: 1), calls: try row.decode(Int.self, at: 2),
                    milliseconds: try row.decode(Double.self, at: 3))
                entries[id, default: Entry(query: entry.query, calls: 0, milliseconds: 0)].calls +=
                    entry.calls
                entries[id]?.milliseconds += entry.milliseconds
            }
            return StatementStatistics(entries: entries)
        }
    }

    /// The work done since `earlier`.
    func since(_ earlier: StatementStatistics?) -> StatementStatistics {
        var delta: [Int64: Entry] = [:]
        for (id, entry) in entries {
            let before = earlier?.entries[id]
            let calls = entry.calls - (before?.calls ?? 0)
            guard calls > 0 else { continue }
            delta[id] = Entry(
                query: entry.query, calls: calls,
                milliseconds: entry.milliseconds - (before?.milliseconds ?? 0))
        }
        return StatementStatistics(entries: delta)
    }

    /// Statements per step, then the eight that took the most execution time.
    func lines(steps: Double) -> [EngineBenchmark.Line] {
        let calls = entries.values.reduce(0) { $0 + $1.calls }
        let time = entries.values.reduce(0) { $0 + $1.milliseconds }
        var lines = [
            EngineBenchmark.Line(
                name: "statements per step",
                value: String(format: "%.1f (%.3f ms executing)", Double(calls) / steps, time / steps),
                workload: "pg_stat_statements calls and total_exec_time delta over the engine phase, every "
                    + "statement of this database (COMMIT and BEGIN included), per step")
        ]
        for entry in entries.values.sorted(by: { $0.milliseconds > $1.milliseconds }).prefix(8) {
            lines.append(
                EngineBenchmark.Line(
                    name: "  "
                        + String(
                            format: "%.2f calls, %.3f ms", Double(entry.calls) / steps,
                            entry.milliseconds / steps),
                    value: entry.query, workload: "per step"))
        }
        return lines
    }
}
