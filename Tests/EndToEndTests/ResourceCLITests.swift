import Foundation
import KeelTestSupport
import PGClient
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `keel resource ...` as users run it: the real executable against the real PostgreSQL, once per content
/// backend, including a 200 MiB round trip whose peak memory (max RSS of the `keel` process, from wait4)
/// must stay far below the content's size, and an upload killed with SIGKILL half-way.
@Suite(.serialized) struct ResourceCLITests {
    enum Backend: String, CaseIterable, Sendable {
        case postgres, directory
    }

    /// A migrated database of its own and the environment that points `keel` at it and at the backend.
    struct Fixture {
        let database: TestDatabase
        let environment: [String: String]
        let root: String?

        static func make(_ backend: Backend) async throws -> Fixture {
            let database = try await TestDatabase.create()
            let migrate = try await ServiceProcess.run(
                "keel", arguments: ["migrate", "--database-url", database.url])
            try #require(migrate.status == 0, "\(migrate.output)")
            var environment = ["KEEL_DATABASE_URL": database.url, "KEEL_RESOURCE_BACKEND": backend.rawValue]
            var root: String?
            if backend == .directory {
                let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "keel-cli-resources-\(UUID().uuidString)"
                ).path
                environment["KEEL_RESOURCE_DIRECTORY"] = path
                root = path
            }
            return Fixture(database: database, environment: environment, root: root)
        }

        func tearDown() async throws {
            if let root { try? FileManager.default.removeItem(atPath: root) }
            try await database.drop()
        }

        func keel(_ arguments: [String]) async throws -> (status: Int32, json: Any?, output: String) {
            let result = try await ServiceProcess.run(
                "keel", arguments: arguments, environment: environment, timeout: .seconds(120))
            let json = try? JSONSerialization.jsonObject(with: Data(result.output.utf8))
            return (result.status, json, result.output)
        }

        func count(_ sql: String) async throws -> Int {
            let pool = try database.pool(size: 1)
            do {
                let value = try await pool.withConnection { connection in
                    try await connection.query(PGQuery(sql)).first?.decode((Int).self)
                }
                await pool.close()
                return value ?? -1
            } catch {
                await pool.close()
                throw error
            }
        }
    }

    static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
        "keel-resource-cli-\(getpid())")

    /// 200 MiB of deterministic bytes, written in 1 MiB blocks (never held whole); the caller removes it.
    static func makeBigFile() -> String {
        let path = scratch.appendingPathComponent("big-200MiB-\(UUID().uuidString).bin").path
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        var block = [UInt8](repeating: 0, count: 1 << 20)
        for index in block.indices {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            block[index] = UInt8(truncatingIfNeeded: state)
        }
        let fd = open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        for blockNumber in 0..<200 {
            withUnsafeBytes(of: UInt64(blockNumber).bigEndian) { header in
                for (offset, byte) in header.enumerated() { block[offset] = byte }
            }
            _ = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
        close(fd)
        rename(path + ".tmp", path)
        return path
    }

    static func sha256sum(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }

    @Test(arguments: Backend.allCases)
    func twoHundredMiBRoundTripStreamsInBoundedMemory(_ backend: Backend) async throws {
        let fixture = try await Fixture.make(backend)
        let big = Self.makeBigFile()
        defer { try? FileManager.default.removeItem(atPath: big) }
        let expected = try Self.sha256sum(big)
        let putOutput = Self.scratch.appendingPathComponent("put-\(backend).json").path
        defer { try? FileManager.default.removeItem(atPath: putOutput) }
        let put = try await MeasuredProcess.run(
            "keel", ["resource", "put", big, "--json"], environment: fixture.environment, stdout: putOutput)
        try #require(put.status == 0, "\(put.output)")
        let record = try #require(
            try JSONSerialization.jsonObject(with: Data(put.output.utf8)) as? [String: Any])
        #expect(record["reference"] as? String == "res:sha256:" + expected)
        #expect(record["size"] as? Int == 200 << 20)
        #expect(record["mediaType"] as? String == "application/octet-stream")

        let fetched = Self.scratch.appendingPathComponent("fetched-\(backend).bin").path
        let get = try await MeasuredProcess.run(
            "keel", ["resource", "get", "res:sha256:" + expected], environment: fixture.environment,
            stdout: fetched)
        try #require(get.status == 0)
        #expect(try Self.sha256sum(fetched) == expected)
        try? FileManager.default.removeItem(atPath: fetched)

        let limit = 64 << 20
        print(
            "resource CLI peak memory (\(backend)): put 200 MiB \(put.maxRSS >> 10) KiB in \(put.seconds) s, "
                + "get 200 MiB \(get.maxRSS >> 10) KiB in \(get.seconds) s")
        #expect(put.maxRSS < limit, "put peak RSS \(put.maxRSS) bytes")
        #expect(get.maxRSS < limit, "get peak RSS \(get.maxRSS) bytes")
        #expect(put.maxRSS > 0 && get.maxRSS > 0)
        try await fixture.tearDown()
    }

    @Test(arguments: Backend.allCases)
    func anUploadKilledHalfWayLeavesNothingVisibleAndGCRemovesItsStaging(_ backend: Backend) async throws {
        let fixture = try await Fixture.make(backend)
        let big = Self.makeBigFile()
        defer { try? FileManager.default.removeItem(atPath: big) }
        let upload = try ServiceProcess(
            "keel", arguments: ["resource", "put", big], environment: fixture.environment)
        let deadline = ContinuousClock.now + .seconds(60)
        var staged = 0
        while ContinuousClock.now < deadline && upload.isRunning {
            staged = try await stagedBytes(fixture, backend)
            if staged >= 8 << 20 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        _ = await upload.stop(signal: SIGKILL)
        try #require(staged >= 8 << 20, "the upload was not caught half-way (staged \(staged) bytes)")
        #expect(try await fixture.count("SELECT count(*)::int8 FROM resource_contents") == 0)
        #expect(try await fixture.count("SELECT count(*)::int8 FROM resources") == 0)

        let gc = try await fixture.keel([
            "resource", "gc", "--older-than", "0s", "--abandoned-after", "0s", "--json",
        ])
        #expect(gc.status == 0, "\(gc.output)")
        #expect(((gc.json as? [String: Any])?["abandonedUploads"] as? Int ?? 0) >= 1)
        #expect(try await stagedBytes(fixture, backend) == 0)
        try await fixture.tearDown()
    }

    func stagedBytes(_ fixture: Fixture, _ backend: Backend) async throws -> Int {
        switch backend {
        case .postgres:
            return try await fixture.count("SELECT COALESCE(sum(length(data)), 0)::int8 FROM resource_chunks")
        case .directory:
            let uploads = (fixture.root ?? "") + "/sha256/.uploads"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: uploads)) ?? []
            return names.reduce(0) { total, name in
                let size = (try? FileManager.default.attributesOfItem(atPath: uploads + "/" + name))?[.size]
                return total + ((size as? NSNumber)?.intValue ?? 0)
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func putGetShowLsAndGCAsDocumented(_ backend: Backend) async throws {
        let fixture = try await Fixture.make(backend)
        let file = Self.scratch.appendingPathComponent("notes-\(backend).md").path
        try? FileManager.default.createDirectory(at: Self.scratch, withIntermediateDirectories: true)
        try "# Notes\nsmall resource\n".write(toFile: file, atomically: true, encoding: .utf8)
        let out = Self.scratch.appendingPathComponent("notes-\(backend)-copy.md").path
        defer {
            try? FileManager.default.removeItem(atPath: file)
            try? FileManager.default.removeItem(atPath: out)
        }

        let put = try await fixture.keel(["resource", "put", file, "--name", "notes", "--keep", "--json"])
        #expect(put.status == 0, "\(put.output)")
        let record = try #require(put.json as? [String: Any])
        let reference = try #require(record["reference"] as? String)
        #expect(reference.hasPrefix("res:sha256:") && reference.count == 75)
        #expect(record["mediaType"] as? String == "text/markdown")
        #expect(record["retention"] as? String == "keep")
        #expect(record["backend"] as? String == backend.rawValue)

        let typed = try await fixture.keel(["resource", "put", file, "--type", "text/plain", "--json"])
        #expect((typed.json as? [String: Any])?["reference"] as? String == reference)

        let show = try await fixture.keel(["resource", "show", reference, "--json"])
        #expect(show.status == 0)
        let shown = try #require(show.json as? [String: Any])
        #expect(shown["size"] as? Int == 23)
        #expect((shown["names"] as? [[String: Any]])?.count == 2)

        let get = try await fixture.keel(["resource", "get", reference, "-o", out, "--json"])
        #expect(get.status == 0, "\(get.output)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "# Notes\nsmall resource\n")
        let stdout = try await fixture.keel(["resource", "get", reference])
        #expect(stdout.output == "# Notes\nsmall resource\n")
        // `-o -` is standard output, as for other Unix tools; no file named "-" appears.
        let dash = try await fixture.keel(["resource", "get", reference, "-o", "-"])
        #expect(dash.output == "# Notes\nsmall resource\n")
        #expect(!FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/-"))

        let ls = try await fixture.keel(["resource", "ls", "--run", UUID().uuidString, "--json"])
        #expect(ls.status == 0)
        #expect((ls.json as? [Any])?.isEmpty == true)

        let gc = try await fixture.keel(["resource", "gc", "--older-than", "0s", "--json"])
        #expect(gc.status == 0)
        #expect((gc.json as? [String: Any])?["resources"] as? Int == 1)  // the unkept name; --keep stays
        #expect(try await fixture.keel(["resource", "get", reference]).status == 0)

        let unknown = try await fixture.keel([
            "resource", "show", "res:sha256:" + String(repeating: "0", count: 64), "--json",
        ])
        #expect(unknown.status == 1)
        #expect((unknown.json as? [String: Any])?["kind"] as? String == "user")
        #expect(
            try await fixture.keel(["resource", "get", "res:sha256:" + String(repeating: "1", count: 64)])
                .status == 1)
        #expect(try await fixture.keel(["resource", "show", "res:sha256:nothex"]).status == 1)
        let mismatch = try await fixture.keel([
            "resource", "put", file, "--sha256", String(repeating: "2", count: 64),
        ])
        #expect(mismatch.status == 1)
        var unreachable = fixture.environment
        unreachable["KEEL_DATABASE_URL"] = "postgres://keel:keel@127.0.0.1:1/keel?connect_timeout=2"
        let down = try await ServiceProcess.run(
            "keel", arguments: ["resource", "show", reference, "--json"], environment: unreachable)
        #expect(down.status == 2)
        try await fixture.tearDown()
    }
}

/// Runs an executable with posix_spawn and measures its peak resident set size: the kernel's high-water
/// mark `VmHWM` in /proc/<pid>/status, sampled every few milliseconds until the process exits, which it
/// only ever raises. (wait4's ru_maxrss would be wrong here: glibc's posix_spawn starts the child on the
/// parent's address space, so the child inherits the test process's own high-water mark.)
enum MeasuredProcess {
    struct Result {
        var status: Int32
        var maxRSS: Int
        var seconds: Double
        var output: String
    }

    static func run(
        _ name: String, _ arguments: [String], environment: [String: String], stdout: String
    ) async throws -> Result {
        let executable = ServiceProcess.binDirectory.appendingPathComponent(name).path
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var pid: pid_t = 0
        let started = ContinuousClock.now
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw SpawnFailed(executable: executable, code: spawned) }
        let child = pid
        // Sample on a Dispatch thread (blocking reads and waitpid stay off the cooperative pool); WNOWAIT
        // leaves the child to reap once it is seen to have exited.
        let (status, peakKiB) = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var peak = 0
                var info = siginfo_t()
                while true {
                    if let kib = highWaterMarkKiB(of: child) { peak = max(peak, kib) }
                    info = siginfo_t()
                    let waited = waitid(P_PID, id_t(child), &info, WEXITED | WNOHANG | WNOWAIT)
                    if waited == 0 && info._sifields._sigchld.si_pid == child { break }
                    usleep(2_000)
                }
                var status: Int32 = 0
                while waitpid(child, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: (status, peak))
            }
        }
        let elapsed = ContinuousClock.now - started
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
        let output = (try? String(contentsOfFile: stdout, encoding: .utf8)) ?? ""
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(
            status: exited, maxRSS: peakKiB * 1024, seconds: (seconds * 10).rounded() / 10,
            output: output.count > 4_000 ? "" : output)
    }

    /// VmHWM of a running process, in KiB.
    static func highWaterMarkKiB(of pid: pid_t) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
            return nil
        }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(
                line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }
}

struct SpawnFailed: Error {
    let executable: String
    let code: Int32
}
