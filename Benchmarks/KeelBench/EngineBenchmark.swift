// keel-bench engine: the run engine end to end (real trigger-intake and step-executors, a linear flow
// of noop steps) beside the raw floors it is built on, measured in one invocation.
import AMQPClient
import Foundation
import KeelCore
import KeelStore
import Logging
import PGClient

#if canImport(Glibc)
    import Glibc
#endif
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Publishes triggers for a flow of `--steps` noop steps in a line as fast as confirms allow, lets the real
/// services run them, and reads the figures from the database afterwards: throughput, the time each step
/// waited between being scheduled and being started, run latency, and how much work the database did per
/// step. Then measures raw libpq and librabbitmq on the same servers for comparison.
enum EngineBenchmark {
    /// Command-line options of `keel-bench engine`.
    struct Options {
        var runs = 300
        var steps = 10
        var executors = 1
        /// Sustained mode: runs triggered per second at a fixed pace (nil: all at once, the burst).
        var rate: Int?
        /// Sustained mode: how long triggers keep arriving.
        var seconds = 60

        /// Runs triggered in all: `runs` in a burst, or `rate` × `seconds` paced.
        var total: Int { rate.map { $0 * seconds } ?? runs }

        init(arguments: [String]) throws {
            var remaining = arguments[...]
            while let flag = remaining.popFirst() {
                guard let text = remaining.popFirst(), let value = Int(text), value > 0 else {
                    throw Failure(description: "\(flag) needs a positive number")
                }
                switch flag {
                case "--runs": runs = value
                case "--steps": steps = value
                case "--executors": executors = value
                case "--rate": rate = value
                case "--seconds": seconds = value
                default:
                    throw Failure(
                        description:
                            "unknown option \(flag); usage: keel-bench engine [--runs N] [--steps N] "
                            + "[--executors N] [--rate RUNS_PER_SECOND --seconds N]")
                }
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// One printed line: a figure, its value, and what produced it.
    struct Line {
        var name: String
        var value: String
        var workload: String
    }

    /// The executor pool (`runs_on` label) of the benchmark's flow, so that only its own executors take
    /// the steps even when a stack's step-executor serves `default`.
    static let executorPool = "bench"

    /// Runs the benchmark; returns false when some runs did not succeed (they are printed).
    static func main(arguments: [String]) async throws -> Bool {
        let options = try Options(arguments: arguments)
        guard let databaseURL = benchSetting("KEEL_DATABASE_URL"), let amqpURL = benchSetting("KEEL_AMQP_URL")
        else {
            throw Failure(
                description: "KEEL_DATABASE_URL and KEEL_AMQP_URL are needed (environment or .keel/env)")
        }
        var logger = Logger(label: "keel.bench.engine")
        logger.logLevel = .warning
        let pool = PGPool(configuration: try PGConfiguration(url: databaseURL), size: 2, logger: logger)
        do {
            let (lines, succeeded) = try await engine(
                options, databaseURL: databaseURL, amqpURL: amqpURL, pool: pool, logger: logger)
            let raw = try await rawFloors(
                databaseURL: databaseURL, amqpURL: amqpURL, pool: pool, logger: logger)
            await pool.close()
            printTable(lines + raw)
            return succeeded
        } catch {
            await pool.close()
            throw error
        }
    }

    // MARK: - The engine

    static func engine(
        _ options: Options, databaseURL: String, amqpURL: String, pool: PGPool, logger: Logger
    ) async throws -> (lines: [Line], succeeded: Bool) {
        try await Migrator.bundled().migrate(pool: pool, logger: logger)
        let flow = "bench-linear-\(Int(Date().timeIntervalSince1970))"
        let definition = try FlowParser.parse(
            yaml: flowYAML(flow, steps: options.steps), file: "\(flow).yaml")
        let store = FlowStore(pool: pool)
        _ = try await store.push(
            flow: flow, description: definition.description ?? "", canonicalJSON: definition.canonicalJSON,
            sha256: definition.contentHash, source: flowYAML(flow, steps: options.steps), author: "keel-bench"
        )
        try await store.release(flow: flow, version: nil, actor: "keel-bench")

        let environment = [
            "KEEL_DATABASE_URL": databaseURL, "KEEL_AMQP_URL": amqpURL, "KEEL_STEP_POOL": executorPool,
            "KEEL_LOG_LEVEL": "warning",
        ]
        var services: [BenchService] = []
        do {
            services.append(try BenchService("trigger-intake", environment: environment))
            for _ in 0..<options.executors {
                services.append(try BenchService("step-executor", environment: environment))
            }
            for service in services { try await service.waitUntilReady() }

            let commitsBefore = try await databaseCommits(pool)
            let walBefore = try await walBytes(pool)
            let outboxBefore = try await outboxInserts(pool)
            let statementsBefore = try await StatementStatistics.read(pool)
            let cpuBefore = services.map(\.cpuSeconds)
            let serversBefore = (ServerCPU.postgres.seconds, ServerCPU.rabbitmq.seconds, ServerCPU.ownSeconds)
            let machineBefore = MachineCPU.now()
            let watched = services.map { (name: $0.name, pid: $0.pid) }
            let memory = Task { await PeakMemory.sample(watched) }
            let (published, publishSeconds) = try await publishTriggers(
                flow: flow, count: options.total, rate: options.rate, amqpURL: amqpURL, logger: logger)
            let polls = try await waitForRuns(
                flow: flow, count: options.total, steps: options.steps, pool: pool)
            memory.cancel()
            let peaks = await memory.value
            let machineAfter = MachineCPU.now()
            var cpu = zip(services, cpuBefore).map { ($0.name, $0.cpuSeconds - $1) }
            cpu.append(("postgresql", ServerCPU.postgres.seconds - serversBefore.0))
            cpu.append(("rabbitmq", ServerCPU.rabbitmq.seconds - serversBefore.1))
            cpu.append(("keel-bench", ServerCPU.ownSeconds - serversBefore.2))
            for service in services { await service.stop() }
            services = []
            // Backends flush their statistics when they exit; give the collector a moment.
            try await Task.sleep(for: .milliseconds(700))
            let commits = try await databaseCommits(pool) - commitsBefore - polls
            let wal = try await walBytes(pool) - walBefore
            let outboxRows = try await outboxInserts(pool) - outboxBefore
            let statements = try await StatementStatistics.read(pool)?.since(statementsBefore)

            let figures = try await EngineFigures.read(flow: flow, startedAt: published, pool: pool)
            var lines = figures.lines(options: options, commits: commits, outboxRows: outboxRows)
            lines.append(
                Line(
                    name: "triggers published (confirmed)/s",
                    value: String(format: "%.0f", Double(options.total) / publishSeconds),
                    workload: "\(options.total) triggers, one AMQPClient channel, \(publishWindow) in flight"
                        + (options.rate.map { ", paced at \($0)/s" } ?? "")))
            lines.append(
                Line(
                    name: "peak RSS (MiB)",
                    value: peaks.map { "\($0.name) \($0.bytes >> 20)" }.joined(separator: ", "),
                    workload: "VmRSS of each Keel service sampled every 100 ms during the engine phase"))
            let busy = machineAfter.busyFraction(since: machineBefore)
            lines.append(
                Line(
                    name: "CPU during the engine phase",
                    value: String(format: "%.0f%%", busy * 100)
                        + " of \(ProcessInfo.processInfo.activeProcessorCount) cores",
                    workload: "CPU time: "
                        + cpu.map { "\($0.0) " + String(format: "%.2f s", $0.1) }.joined(
                            separator: ", ")
                        + String(format: " of %.2f s wall", figures.seconds)))
            let steps = Double(options.total * options.steps)
            lines.append(
                Line(
                    name: "CPU ms per step, by process",
                    value: cpu.map { "\($0.0) " + String(format: "%.2f", $0.1 * 1000 / steps) }.joined(
                        separator: ", ")
                        + String(
                            format: "; all %.2f",
                            cpu.reduce(0) { $0 + $1.1 } * 1000 / steps),
                    workload: "user+system CPU of each process (PostgreSQL: every backend and background "
                        + "process; RabbitMQ: the Erlang VM) over the engine phase, divided by the steps run")
            )
            lines.append(
                Line(
                    name: "WAL bytes per step", value: String(format: "%.0f", Double(wal) / steps),
                    workload: "pg_stat_wal wal_bytes delta over the engine phase (the whole server)"))
            if let statements {
                lines += statements.lines(steps: steps)
            }
            if !figures.failures.isEmpty {
                print("runs that did not succeed (\(figures.failures.count)):")
                for failure in figures.failures.prefix(20) { print("  \(failure)") }
                return (lines, false)
            }
            return (lines, true)
        } catch {
            for service in services {
                FileHandle.standardError.write(
                    Data("\(service.name) log:\n\(service.output.suffix(4000))\n".utf8))
                await service.stop()
            }
            throw error
        }
    }

    /// `steps` noop steps in a line, all on the benchmark's executor pool.
    static func flowYAML(_ name: String, steps: Int) -> String {
        var yaml = "flow: \(name)\ndescription: keel-bench engine, \(steps) noop steps in a line\nsteps:\n"
        for index in 1...steps {
            yaml += "  - id: s\(index)\n"
            if index > 1 { yaml += "    needs: [s\(index - 1)]\n" }
            yaml += "    runs_on: [\(executorPool)]\n    noop: {}\n"
        }
        return yaml
    }

    /// Triggers in flight at once on the publishing channel.
    static let publishWindow = 64

    /// Publishes `count` triggers with confirms; returns the clock just before the first one (epoch
    /// seconds, compared with the database's timestamps: the servers run on this machine) and the
    /// publishing time.
    static func publishTriggers(flow: String, count: Int, rate: Int?, amqpURL: String, logger: Logger)
        async throws -> (startedAt: Double, seconds: Double)
    {
        let connection = try await AMQPConnection.connect(try AMQPConfiguration(url: amqpURL), logger: logger)
        let channel = try await connection.openChannel()
        try await channel.enablePublisherConfirms()
        let startedAt = Date().timeIntervalSince1970
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<min(publishWindow, count) {
                group.addTask {
                    for index in stride(from: worker, to: count, by: publishWindow) {
                        if let rate {
                            // Sustained mode: trigger `index` leaves at index / rate seconds.
                            try await Task.sleep(until: started + .seconds(Double(index) / Double(rate)))
                        }
                        let key = "bench-\(index)"
                        let body =
                            #"{"flow": "\#(flow)", "input": {}, "idempotency_key": "\#(key)", "actor": "keel-bench"}"#
                        try await channel.publish(
                            Array(body.utf8), exchange: "keel.triggers", routingKey: flow,
                            properties: AMQPProperties(
                                contentType: "application/json", correlationID: key,
                                messageID: UUID().uuidString),
                            mandatory: true)
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = AMQPBenchmark.seconds(started.duration(to: .now))
        try await channel.close()
        await connection.close()
        return (startedAt, seconds)
    }

    /// Polls until `count` runs of `flow` are finished; returns how many polls (each one commit) it took.
    /// Bounded far beyond what a working engine needs.
    static func waitForRuns(flow: String, count: Int, steps: Int, pool: PGPool) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(60 + count * steps / 20)
        var polls = 0
        var finished = 0
        var existing = 0
        while ContinuousClock.now < deadline {
            (existing, finished) = try await pool.withConnection { connection in
                let row = try await connection.query(
                    """
                    SELECT count(*)::int8,
                           count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'cancelled'))::int8
                    FROM runs WHERE flow = \(flow)
                    """
                ).first
                return (try row?.decode(Int.self, at: 0) ?? 0, try row?.decode(Int.self, at: 1) ?? 0)
            }
            polls += 1
            if finished >= count { return polls }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failure(description: "only \(finished) of \(count) runs finished (\(existing) created) in time")
    }

    /// A server counter read fresh (`pg_stat_clear_snapshot` first, so the statistics are not the ones
    /// this session already looked at), 0 when the query finds no row.
    static func counter(_ pool: PGPool, _ query: PGQuery) async throws -> Int {
        try await pool.withConnection { connection in
            try await connection.execute("SELECT pg_stat_clear_snapshot()")
            return try await connection.query(query).first?.decode(Int.self, at: 0) ?? 0
        }
    }

    /// Committed transactions of the current database so far (pg_stat_database; flushed by backends
    /// when they go idle or exit).
    static func databaseCommits(_ pool: PGPool) async throws -> Int {
        try await counter(
            pool, "SELECT xact_commit::int8 FROM pg_stat_database WHERE datname = current_database()")
    }

    /// Rows ever inserted into the outbox (the relay deletes them once sent).
    static func outboxInserts(_ pool: PGPool) async throws -> Int {
        try await counter(pool, "SELECT n_tup_ins::int8 FROM pg_stat_user_tables WHERE relname = 'outbox'")
    }

    /// WAL bytes the server has written so far (pg_stat_wal, PostgreSQL 14 and later).
    static func walBytes(_ pool: PGPool) async throws -> Int {
        try await counter(pool, "SELECT wal_bytes::int8 FROM pg_stat_wal")
    }

    // MARK: - Raw floors

    static let rawCommits = 2_000
    static let rawMessages = 20_000
    static let roundTrips = 1_000

    static func rawFloors(databaseURL: String, amqpURL: String, pool: PGPool, logger: Logger) async throws
        -> [Line]
    {
        try await pool.withConnection { connection in
            try await connection.executeScript(
                "CREATE TABLE IF NOT EXISTS bench_pg (id bigserial PRIMARY KEY, v bigint NOT NULL); TRUNCATE bench_pg"
            )
        }
        let commitSeconds = try await AMQPBenchmark.onThread {
            let raw = try PGBenchmark.RawConnection(url: databaseURL)
            defer { raw.close() }
            _ = try raw.insert(count: 100, startingAt: 0)
            return try raw.insert(count: rawCommits, startingAt: 100)
        }
        try await pool.withConnection { try await $0.executeScript("DROP TABLE bench_pg") }

        let configuration = try AMQPConfiguration(url: amqpURL)
        let connection = try await AMQPConnection.connect(configuration, logger: logger)
        let setup = try await connection.openChannel()
        let queue = "keel.bench.engine-raw"
        try await setup.declareQueue(queue, durable: true)
        try await setup.purgeQueue(queue)
        let body = [UInt8](repeating: 0x6B, count: AMQPBenchmark.bodySize)
        let publishRate = try await AMQPBenchmark.onThread {
            try RawRabbit(configuration).publish(queue: queue, body: body, count: rawMessages)
        }
        let consumeRate = try await AMQPBenchmark.onThread {
            try RawRabbit(configuration).consume(queue: queue, count: rawMessages)
        }
        try await setup.deleteQueue(queue)
        let trips = try await roundTripMilliseconds(connection, configuration: configuration, logger: logger)
        await connection.close()

        let messages = "\(rawMessages) × \(AMQPBenchmark.bodySize) B persistent, durable classic queue"
        return [
            Line(
                name: "raw libpq single-row commits/s",
                value: String(format: "%.0f", Double(rawCommits) / commitSeconds),
                workload: "autocommit INSERT, 1 connection, sequential, \(rawCommits) rows"),
            Line(
                name: "raw librabbitmq confirmed publishes/s", value: String(format: "%.0f", publishRate),
                workload: "\(messages), \(AMQPBenchmark.window) in flight"),
            Line(
                name: "raw librabbitmq consumed+acked/s", value: String(format: "%.0f", consumeRate),
                workload: "\(messages), prefetch \(AMQPBenchmark.prefetch), one ack per message"),
            Line(
                name: "AMQP round trip p50 / p99 (ms)",
                value: String(format: "%.2f / %.2f", percentile(trips, 0.5), percentile(trips, 0.99)),
                workload: "AMQPClient, publish (no confirm) on one connection → delivery on another, "
                    + "\(roundTrips) sequential 256 B persistent messages, durable queue"),
        ]
    }

    /// Sequential publish → delivery latencies through AMQPClient, publisher and consumer on separate
    /// connections.
    static func roundTripMilliseconds(
        _ publisher: AMQPConnection, configuration: AMQPConfiguration, logger: Logger
    ) async throws -> [Double] {
        let queue = "keel.bench.engine-roundtrip"
        let consumerConnection = try await AMQPConnection.connect(configuration, logger: logger)
        let consumerChannel = try await consumerConnection.openChannel()
        try await consumerChannel.declareQueue(queue, durable: true)
        try await consumerChannel.purgeQueue(queue)
        try await consumerChannel.setPrefetch(10)
        let publishChannel = try await publisher.openChannel()
        var deliveries = try await consumerChannel.consume(queue: queue).makeAsyncIterator()
        let body = [UInt8](repeating: 0x6B, count: AMQPBenchmark.bodySize)
        var latencies: [Double] = []
        for index in 0..<(roundTrips + 50) {
            let started = ContinuousClock.now
            try await publishChannel.publish(body, exchange: "", routingKey: queue)
            guard let delivery = try await deliveries.next() else {
                throw Failure(description: "the round-trip consumer ended")
            }
            let elapsed = AMQPBenchmark.seconds(started.duration(to: .now)) * 1000
            try await consumerChannel.ack(delivery)
            if index >= 50 { latencies.append(elapsed) }  // the first ones warm up
        }
        try await consumerChannel.deleteQueue(queue)
        try await publishChannel.close()
        await consumerConnection.close()
        return latencies
    }

    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))]
    }

    static func printTable(_ lines: [Line]) {
        let nameWidth = lines.map(\.name.count).max() ?? 0
        let valueWidth = lines.map(\.value.count).max() ?? 0
        func padded(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
        print("\(padded("figure", nameWidth)) | \(padded("value", valueWidth)) | workload")
        print(
            String(repeating: "-", count: nameWidth) + "-|-" + String(repeating: "-", count: valueWidth)
                + "-|-")
        for line in lines {
            print("\(padded(line.name, nameWidth)) | \(padded(line.value, valueWidth)) | \(line.workload)")
        }
    }
}

/// What the database says about the benchmark's runs once they are all finished.
struct EngineFigures {
    /// First trigger published → last run finished, seconds.
    var seconds: Double
    var runs: Int
    var stepsSucceeded: Int
    /// step.scheduled → step.started per attempt, ms: p50, p90, p99, max, and how many.
    var readyToStart: [Double]
    var attempts: Int
    /// step.started → step.succeeded, ms: p50, p99.
    var startToDone: [Double]
    /// runs.created_at → finished_at, ms: p50, p99.
    var runLatency: [Double]
    /// Outbox dispatches to the benchmark's pool: created → marked sent, ms: p50, p99.
    var historyRows: Int
    /// Every outbox row written since the first trigger (dispatches, events, replies).
    var failures: [String]

    static func read(flow: String, startedAt: Double, pool: PGPool) async throws -> EngineFigures {
        try await pool.withConnection { connection in
            let totals = try await connection.query(
                """
                SELECT count(*)::int8, (extract(epoch FROM max(finished_at))::float8 - \(startedAt))::float8,
                       (percentile_cont(ARRAY[0.5, 0.99]::float8[]) WITHIN GROUP
                           (ORDER BY extract(epoch FROM finished_at - created_at)::float8 * 1000))::float8[]
                FROM runs WHERE flow = \(flow)
                """
            ).first
            let steps = try await connection.query(
                """
                WITH attempt AS (
                    SELECT h.run_id, h.step, h.attempt,
                           min(h.recorded_at) FILTER (WHERE h.kind = 'step.scheduled') AS scheduled,
                           min(h.recorded_at) FILTER (WHERE h.kind = 'step.started') AS started,
                           min(h.recorded_at) FILTER (WHERE h.kind = 'step.succeeded') AS succeeded
                    FROM run_history h JOIN runs r ON r.id = h.run_id
                    WHERE r.flow = \(flow) AND h.step IS NOT NULL
                    GROUP BY h.run_id, h.step, h.attempt
                )
                SELECT count(*)::int8, count(succeeded)::int8,
                       (percentile_cont(ARRAY[0.5, 0.9, 0.99]::float8[]) WITHIN GROUP
                           (ORDER BY extract(epoch FROM started - scheduled)::float8 * 1000))::float8[],
                       max(extract(epoch FROM started - scheduled)::float8 * 1000)::float8,
                       (percentile_cont(ARRAY[0.5, 0.99]::float8[]) WITHIN GROUP
                           (ORDER BY extract(epoch FROM succeeded - started)::float8 * 1000))::float8[]
                FROM attempt WHERE scheduled IS NOT NULL AND started IS NOT NULL
                """
            ).first
            let history = try await connection.query(
                "SELECT count(*)::int8 FROM run_history h JOIN runs r ON r.id = h.run_id WHERE r.flow = \(flow)"
            ).first
            let failures = try await connection.query(
                "SELECT id::text, status FROM runs WHERE flow = \(flow) AND status <> 'succeeded' ORDER BY id"
            ).map { "\(try $0.decode(String.self, at: 0)) \(try $0.decode(String.self, at: 1))" }
            guard let totals, let steps, let history else {
                throw EngineBenchmark.Failure(description: "an aggregate query returned no row")
            }
            return EngineFigures(
                seconds: try totals.decode(Double?.self, at: 1) ?? 0,
                runs: try totals.decode(Int.self, at: 0),
                stepsSucceeded: try steps.decode(Int.self, at: 1),
                readyToStart: (try steps.decode([Double]?.self, at: 2) ?? [])
                    + [try steps.decode(Double?.self, at: 3) ?? 0],
                attempts: try steps.decode(Int.self, at: 0),
                startToDone: try steps.decode([Double]?.self, at: 4) ?? [],
                runLatency: try totals.decode([Double]?.self, at: 2) ?? [],
                historyRows: try history.decode(Int.self, at: 0),
                failures: failures)
        }
    }

    func lines(options: EngineBenchmark.Options, commits: Int, outboxRows: Int) -> [EngineBenchmark.Line] {
        typealias Line = EngineBenchmark.Line
        let workload =
            "\(options.total) runs × \(options.steps) noop steps in a line"
            + (options.rate.map { " (\($0) runs/s for \(options.seconds) s)" } ?? " (burst)")
            + ", \(options.executors) step-executor(s), "
            + "prefetch \(setting("KEEL_AMQP_PREFETCH", "32")), shards \(setting("KEEL_STEP_SHARDS", "4")), "
            + "pool size \(setting("KEEL_DATABASE_POOL_SIZE", "8"))"
        func format(_ values: [Double]) -> String {
            values.map { String(format: "%.1f", $0) }.joined(separator: " / ")
        }
        let steps = max(1, stepsSucceeded)
        return [
            Line(
                name: "engine runs/s", value: String(format: "%.1f", Double(runs) / max(seconds, 1e-9)),
                workload: workload
                    + String(format: "; first trigger published → last run finished: %.2f s", seconds)),
            Line(
                name: "engine steps/s",
                value: String(format: "%.0f", Double(stepsSucceeded) / max(seconds, 1e-9)),
                workload: "\(stepsSucceeded) steps succeeded over the same interval"),
            Line(
                name: "step ready→start p50 / p90 / p99 / max (ms)", value: format(readyToStart),
                workload: "run_history step.scheduled → step.started recorded_at, \(attempts) attempts"),
            Line(
                name: "step start→succeeded p50 / p99 (ms)", value: format(startToDone),
                workload: "run_history step.started → step.succeeded recorded_at (noop)"),
            Line(
                name: "run latency p50 / p99 (ms)", value: format(runLatency),
                workload: "runs.created_at → finished_at"),
            Line(
                name: "database work per step",
                value: String(
                    format: "%.1f commits, %.1f history rows, %.1f outbox rows",
                    Double(commits) / Double(steps),
                    Double(historyRows) / Double(steps), Double(outboxRows) / Double(steps)),
                workload:
                    "pg_stat_database xact_commit delta (all services, the bench's polling subtracted), "
                    + "run_history rows written since the first trigger and outbox rows inserted (pg_stat_user_tables), per succeeded step"
            ),
        ]
    }

    private func setting(_ name: String, _ fallback: String) -> String {
        ProcessInfo.processInfo.environment[name] ?? fallback
    }
}

/// A service executable from keel-bench's own folder (a release keel-bench runs release services), with
/// a free HTTP port and its output in a temporary log file.
final class BenchService {
    let name: String
    let port: Int
    private let process: Process
    private let logFile: URL

    /// The folder holding keel-bench, hence the services built with it.
    static var binDirectory: URL {
        (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
            .resolvingSymlinksInPath().deletingLastPathComponent()
    }

    init(_ name: String, environment: [String: String]) throws {
        self.name = name
        port = try Self.freePort()
        process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(name)
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        env["KEEL_HTTP_PORT"] = "\(port)"
        process.environment = env
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keel-bench-\(name)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: logFile)
    }

    var output: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    var pid: Int32 { process.processIdentifier }

    /// Waits for `/health/ready` to answer 200; bounded far beyond a healthy start.
    func waitUntilReady(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        let url = URL(string: "http://127.0.0.1:\(port)/health/ready")
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw EngineBenchmark.Failure(description: "\(name) exited:\n\(output.suffix(4000))")
            }
            if let url, let answer = try? await URLSession.shared.data(from: url),
                (answer.1 as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw EngineBenchmark.Failure(description: "\(name) was not ready in time:\n\(output.suffix(4000))")
    }

    /// User plus system CPU seconds the process used so far (Linux /proc), 0 when unknown.
    var cpuSeconds: Double {
        guard
            let stat = try? String(
                contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            return 0
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// SIGTERM, then waits (bounded) for the exit; SIGKILL if it does not come.
    func stop() async {
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// A TCP port nobody listens on right now (bound to port 0, then released).
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw EngineBenchmark.Failure(description: "socket() failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(socket, address, length) == 0 && getsockname(socket, address, &length) == 0
            }
        }
        guard bound else { throw EngineBenchmark.Failure(description: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The machine's CPU counters (/proc/stat), to tell whether the engine phase saturated the cores.
struct MachineCPU {
    var busy: Double
    var total: Double

    static func now() -> MachineCPU {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first
        else { return MachineCPU(busy: 0, total: 0) }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return MachineCPU(busy: 0, total: 0) }
        let total = values.reduce(0, +)
        let idle = values[3] + values[4]  // idle + iowait
        return MachineCPU(busy: total - idle, total: total)
    }

    func busyFraction(since earlier: MachineCPU) -> Double {
        let total = self.total - earlier.total
        return total > 0 ? (busy - earlier.busy) / total : 0
    }
}
