import PGClient
import KeelTestSupport
import Testing

extension PGClientTests {
    @Suite struct Pool {
        /// Twelve concurrent users of a pool of three: never more than three bodies at once and never
        /// more than three server connections (counted by application_name in pg_stat_activity).
        @Test func neverOpensMoreThanSize() async throws {
            let applicationName = PGTest.uniqueName("pool-bound")
            let size = 3
            try await PGTest.withConnection(applicationName: "keel-pgclient-observer") { observer in
                let pool = PGPool(
                    configuration: try PGTest.configuration(applicationName: applicationName), size: size,
                    logger: PGTest.logger)
                let concurrent = Counter()
                let serverMaximum = try await withThrowingTaskGroup(of: Int.self) { group in
                    for user in 0..<12 {
                        group.addTask {
                            try await pool.withConnection { connection in
                                concurrent.increment()
                                defer { concurrent.decrement() }
                                let rows = try await connection.query(
                                    """
                                    SELECT count(*) FROM pg_stat_activity, pg_sleep(0.15)
                                    WHERE application_name = \(applicationName) AND \(user) >= 0
                                    """)
                                return try rows[0].decode((Int).self)
                            }
                        }
                    }
                    return try await group.reduce(0) { max($0, $1) }
                }
                #expect(concurrent.maximum <= size)
                #expect(concurrent.maximum >= 2, "users did run concurrently")
                #expect(serverMaximum <= size)
                #expect(
                    try await PGTest.backendCount(applicationName: applicationName, using: observer) <= size)
                await pool.close()
                try await waitUntil("the pool's connections close", within: .seconds(10)) {
                    try await PGTest.backendCount(applicationName: applicationName, using: observer) == 0
                }
            }
        }

        @Test func waitersAreServedInArrivalOrder() async throws {
            try await PGTest.withPool(size: 1) { pool in
                let order = OrderLog()
                let holding = AsyncStream.makeStream(of: Void.self)
                let gate = AsyncStream.makeStream(of: Void.self)
                let holder = Task {
                    try await pool.withConnection { _ in
                        holding.continuation.yield()
                        for await _ in gate.stream { break }
                    }
                }
                for await _ in holding.stream { break }
                var waiters: [Task<Void, any Error>] = []
                for index in 0..<4 {
                    waiters.append(Task { try await pool.withConnection { _ in await order.append(index) } })
                    try await waitUntil("waiter \(index) queues", within: .seconds(10)) {
                        pool.statistics.waiting == index + 1
                    }
                }
                #expect(pool.statistics == PGPoolStatistics(open: 1, idle: 0, waiting: 4))
                gate.continuation.yield()
                try await holder.value
                for waiter in waiters { try await waiter.value }
                #expect(await order.entries == [0, 1, 2, 3])
                #expect(pool.statistics == PGPoolStatistics(open: 1, idle: 1, waiting: 0))
            }
        }

        /// Many tasks, few connections, transactions and plain statements mixed: everything completes,
        /// every write lands exactly once, and the pool ends with all its connections idle.
        @Test func manyConcurrentUsersAllComplete() async throws {
            try await PGTest.withPool(size: 3) { pool in
                let table = PGTest.uniqueName("pool_stress")
                try await pool.withConnection { connection in
                    try await connection.executeScript("CREATE TABLE \(table) (task int, step int)")
                }
                try await PGTest.within(.seconds(90), "40 tasks of 10 statements") {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for task in 0..<40 {
                            group.addTask {
                                for step in 0..<10 {
                                    if step.isMultiple(of: 2) {
                                        try await pool.withTransaction { connection in
                                            try await connection.execute(
                                                "INSERT INTO \(unescaped: table) VALUES (\(task), \(step))")
                                        }
                                    } else {
                                        try await pool.withConnection { connection in
                                            try await connection.execute(
                                                "INSERT INTO \(unescaped: table) VALUES (\(task), \(step))")
                                        }
                                    }
                                }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                let row = try await pool.withConnection { connection in
                    try await connection.query(
                        "SELECT count(*), count(DISTINCT (task, step)) FROM \(unescaped: table)")[0]
                }
                let (rows, distinct) = try row.decode((Int, Int).self)
                #expect(rows == 400)
                #expect(distinct == 400)
                #expect(pool.statistics.waiting == 0)
                #expect(pool.statistics.open <= 3)
                #expect(pool.statistics.idle == pool.statistics.open)
                try await pool.withConnection { try await $0.executeScript("DROP TABLE \(table)") }
            }
        }

        @Test func closedPoolRefusesWork() async throws {
            let pool = PGPool(configuration: try PGTest.configuration(), size: 1, logger: PGTest.logger)
            #expect(try await pool.withConnection { try await $0.query("SELECT 1").count } == 1)
            await pool.close()
            let error = await #expect(throws: PGError.self) { try await pool.withConnection { _ in 0 } }
            #expect(error?.code == .poolClosed)
        }
    }
}

actor OrderLog {
    private(set) var entries: [Int] = []

    func append(_ entry: Int) {
        entries.append(entry)
    }
}
