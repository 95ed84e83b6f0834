import Foundation
import Testing

@testable import step_executor

#if canImport(Glibc)
    import Glibc
#endif

/// The pure parts of step isolation: reading its settings, refusing to start without the means to
/// isolate, handing out uids, and the credentials every step's output is masked for.
@Suite struct StepIsolationTests {
    static let allCapabilities: UInt64 = StepIsolation.requiredCapabilities.reduce(0) { $0 | (1 << $1.bit) }

    @Test func isolationIsOnByDefaultAndOnlyNoneTurnsItOff() throws {
        #expect(try StepIsolation(reader: .of([:])) == .uidRange(StepIsolation.defaultRange))
        #expect(
            try StepIsolation(reader: .of(["KEEL_STEP_ISOLATION": ""]))
                == .uidRange(StepIsolation.defaultRange))
        #expect(try StepIsolation(reader: .of(["KEEL_STEP_ISOLATION": "none"])) == .none)
        #expect(
            try StepIsolation(reader: .of(["KEEL_STEP_UID_RANGE": "3000000-3000009"]))
                == .uidRange(3_000_000...3_000_009))
        #expect(throws: StepIsolationError.self) {
            try StepIsolation(reader: .of(["KEEL_STEP_ISOLATION": "off"]))
        }
    }

    @Test(arguments: ["5-1", "0-10", "999-2000", "abc", "2000000", "2000000-", "1-2-3", "2000000-4294967295"])
    func aUidRangeThatIsNotOrderedOrReachesSystemAccountsIsRefused(_ text: String) {
        #expect(throws: StepIsolationError.self) { try StepIsolation.parseRange(text) }
    }

    @Test func anExecutorWithoutRootsCapabilitiesRefusesIsolationInsteadOfRunningStepsAsItself() throws {
        let isolation = StepIsolation.uidRange(3_000_000...3_000_099)
        let refused = try #require(
            isolation.problem(maxInFlight: 4, setpriv: "/usr/bin/setpriv", effectiveCapabilities: 0))
        #expect(refused.contains("CAP_SETUID") && refused.contains("KEEL_STEP_ISOLATION=none"))
        #expect(
            isolation.problem(maxInFlight: 4, setpriv: nil, effectiveCapabilities: Self.allCapabilities)
                != nil)
        #expect(
            isolation.problem(
                maxInFlight: 4, setpriv: "/usr/bin/setpriv", effectiveCapabilities: Self.allCapabilities)
                == nil)
        // One uid per attempt in flight, or two attempts would share one.
        let small = StepIsolation.uidRange(3_000_000...3_000_001)
        #expect(
            small.problem(
                maxInFlight: 4, setpriv: "/usr/bin/setpriv", effectiveCapabilities: Self.allCapabilities)?
                .contains("fewer than") == true)
        let own = StepIsolation.uidRange(getuid()...(getuid() + 100))
        if getuid() >= 1000 {
            #expect(
                own.problem(
                    maxInFlight: 4, setpriv: "/usr/bin/setpriv", effectiveCapabilities: Self.allCapabilities)
                    != nil)
        }
        #expect(StepIsolation.none.problem(maxInFlight: 4, setpriv: nil, effectiveCapabilities: 0) == nil)
    }

    @Test func uidsAreTriedRoundRobinFromTheCursor() {
        #expect(StepUserPool.candidates(in: 10...12, from: 0) == [10, 11, 12])
        #expect(StepUserPool.candidates(in: 10...12, from: 2) == [12, 10, 11])
        #expect(StepUserPool.candidates(in: 10...12, from: 4) == [11, 12, 10])
    }

    /// `acquire`, tried again for a moment: a process this test process forks at the same time (other
    /// suites run beside this one) holds a copy of a just-closed lock file until it execs, and with it the
    /// `flock`. The executor, with a range of a thousand uids, simply takes the next one.
    static func acquireSoon(_ pool: StepUserPool) async throws -> StepUserLease {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            do {
                return try await pool.acquire()
            } catch StepUserPoolError.exhausted where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test func attemptsInFlightNeverShareAUidAndAUidGivenBackIsTheLastReused() async throws {
        try await withLockDirectory { directory in
            let pool = try StepUserPool(
                range: 3_100_000...3_100_002, setpriv: "/usr/bin/setpriv", lockDirectory: directory)
            let first = try await pool.acquire()
            let second = try await pool.acquire()
            let third = try await pool.acquire()
            #expect(Set([first.user.uid, second.user.uid, third.user.uid]).count == 3)
            #expect(first.user.gid == first.user.uid)
            await #expect(throws: StepUserPoolError.self) { try await pool.acquire() }
            pool.release(second)
            let again = try await Self.acquireSoon(pool)
            #expect(again.user == second.user)
            pool.release(first)
            pool.release(third)
            pool.release(again)
            // Round-robin: after the three, the next search starts past the last one taken.
            let next = try await Self.acquireSoon(pool)
            #expect(next.user.uid == 3_100_002)
            pool.release(next)
        }
    }

    @Test func aUidLockedByAnotherExecutorOfTheHostIsSkipped() async throws {
        try await withLockDirectory { directory in
            let pool = try StepUserPool(
                range: 3_200_000...3_200_001, setpriv: "/usr/bin/setpriv", lockDirectory: directory)
            // Another executor: its own open of the lock file, with its flock.
            let other = open("\(directory)/3200000", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            try #require(flock(other, LOCK_EX | LOCK_NB) == 0)
            defer { close(other) }
            let lease = try await pool.acquire()
            #expect(lease.user.uid == 3_200_001)
            await #expect(throws: StepUserPoolError.self) { try await pool.acquire() }
            pool.release(lease)
        }
    }

    @Test func everySecretAndTheExecutorsOwnCredentialsAreMaskedUsedOrNot() {
        let source = SecretSource(environment: [
            "KEEL_SECRET_TOKEN": "tok-123456", "KEEL_SECRET_KEY": "line-one-aaa\nline-two-bbb",
            "KEEL_CALLBACK_KEYS": "k1:Zm9vYmFyYmF6cXV4, k2:c2Vjb25kLWtleQ",
            "KEEL_DATABASE_URL": "postgres://keel:db%40Pass-9876@127.0.0.1:5432/keel",
            "KEEL_AMQP_URL": "amqp://keel:amqp-Pass-5432@127.0.0.1/keel", "KEEL_OTHER": "not-a-secret",
        ])
        for value in [
            "tok-123456", "line-one-aaa\nline-two-bbb", "line-one-aaa", "line-two-bbb", "Zm9vYmFyYmF6cXV4",
            "c2Vjb25kLWtleQ", "db%40Pass-9876", "db@Pass-9876", "amqp-Pass-5432",
        ] {
            #expect(source.masked.contains(value), "\(value)")
        }
        #expect(!source.masked.contains("not-a-secret"))
        // The local stack's password is too short to mask without garbling every mention of Keel.
        #expect(ExecutorCredentials.values(in: ["KEEL_DATABASE_URL": "postgres://keel:keel@h/keel"]).isEmpty)
        #expect(ExecutorCredentials.password(in: "postgres://u@h/db") == nil)
    }

    func withLockDirectory(_ body: (String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keel-uid-locks-\(UUID())"
        ).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(directory)
    }
}
