public import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// One of the project's executables, built by `swift build`, run as a real child process for end-to-end
/// tests. Its standard error is captured so tests can check what it logged.
public final class ServiceProcess: @unchecked Sendable {
    // @unchecked: `process` and `output` are set once in init; `output` is a thread-safe file handle.
    public let name: String
    /// The environment it was given on top of the test's own (its `KEEL_HTTP_PORT`, for instance).
    public let environment: [String: String]
    let process: Process
    let logFile: URL

    /// The folder holding the built executables: `KEEL_BIN_DIR` (set by scripts/test), else `.build/debug`.
    public static var binDirectory: URL {
        if let dir = TestEnvironment.value("KEEL_BIN_DIR") { return URL(fileURLWithPath: dir) }
        return TestEnvironment.packageRoot.appendingPathComponent(".build/debug")
    }

    /// Settings `scripts/stack up` adds to .keel/env for the developer's own stack (its callback keys),
    /// which scripts/test then exports: a service under test gets them only from its test, so a test that
    /// starts one without keys, or with keys of its own, means the same after `scripts/stack up` as on CI.
    static let stackOnly: Set<String> = [
        "KEEL_CALLBACK_KEYS", "KEEL_CALLBACK_SIGNING_KEY", "KEEL_CALLBACK_GATEWAY_URL",
    ]

    /// Starts `name` with the given extra environment and arguments.
    public init(_ name: String, arguments: [String] = [], environment: [String: String]) throws {
        self.name = name
        self.environment = environment
        process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(name)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !Self.stackOnly.contains($0.key) }
        env.merge(environment) { _, new in new }
        process.environment = env
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "keel-\(name)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardError = handle
        process.standardOutput = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// A test that throws half-way never leaves a service running (holding its port and database) or
    /// its log file behind.
    deinit {
        if isRunning {
            kill(process.processIdentifier, SIGKILL)
            // Not waitUntilExit: it waits for Foundation's SIGCHLD handling, which can lag (see `ending`).
            let deadline = ContinuousClock.now + .seconds(10)
            while isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        }
        try? FileManager.default.removeItem(at: logFile)
    }

    /// Everything the process wrote so far.
    public var output: String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    public var isRunning: Bool { ending == nil }

    /// How the process ended (by a signal or not, and the exit status or signal number), or nil while it
    /// runs. Foundation's `Process` learns of an exit from SIGCHLD; on a loaded machine it has left an
    /// exited child unreaped (a zombie, `isRunning` still true) past a test's whole timeout, so this also
    /// asks the kernel with `waitid(WNOWAIT)`, which reads the exit without reaping it.
    var ending: (bySignal: Bool, status: Int32)? {
        if !process.isRunning {
            return (process.terminationReason == .uncaughtSignal, process.terminationStatus)
        }
        var info = siginfo_t()
        let pid = process.processIdentifier
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0,
            info._sifields._sigchld.si_pid == pid
        else { return nil }
        return (info.si_code != Int32(CLD_EXITED), info._sifields._sigchld.si_status)
    }

    public var pid: Int32 { process.processIdentifier }

    /// The signal that ended the process (e.g. SIGSEGV), or nil while it runs or when it exited.
    public var endingSignal: Int32? {
        guard let ending, ending.bySignal else { return nil }
        return ending.status
    }

    /// The process's resident memory (`VmRSS` of /proc/PID/status), in bytes; nil once it has ended.
    public var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes * 1024
    }

    /// Sends a signal (SIGTERM by default) and waits up to `timeout` for the exit status; nil if still running.
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(20)) async -> Int32? {
        if isRunning { kill(process.processIdentifier, signal) }
        let deadline = ContinuousClock.now + timeout
        while isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard let ending else {
            appendThreadStacks()
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return ending.status
    }

    /// Writes every thread's stack (gdb, when installed) after the process's own output, so a service
    /// that would not stop shows where it was: a thread blocked in libpq or librabbitmq, for instance.
    func appendThreadStacks() {
        let gdbPath = "/usr/bin/gdb"
        guard FileManager.default.isExecutableFile(atPath: gdbPath),
            let handle = try? FileHandle(forWritingTo: logFile)
        else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        handle.write(Data("\n--- still running after SIGTERM; thread stacks ---\n".utf8))
        let gdb = Process()
        gdb.executableURL = URL(fileURLWithPath: gdbPath)
        gdb.arguments = ["-batch", "-p", "\(process.processIdentifier)", "-ex", "thread apply all bt 30"]
        gdb.standardOutput = handle
        gdb.standardError = handle
        gdb.standardInput = FileHandle.nullDevice
        guard (try? gdb.run()) != nil else { return }
        gdb.waitUntilExit()
    }

    /// Runs a command to completion (e.g. `keel migrate --json`) and returns its status and output.
    /// `timeout` only catches a command that hangs: a loaded CI machine running the suites in parallel
    /// has taken over a minute to apply the migrations.
    public static func run(
        _ name: String, arguments: [String], environment: [String: String] = [:],
        timeout: Duration = .seconds(180)
    ) async throws -> (status: Int32, output: String) {
        let child = try ServiceProcess(name, arguments: arguments, environment: environment)
        let deadline = ContinuousClock.now + timeout
        while child.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        guard !child.isRunning else {
            _ = await child.stop(signal: SIGKILL)
            throw ScriptFailed(script: name, status: -1, output: "timed out: " + child.output)
        }
        return (child.ending?.status ?? -1, child.output)
    }
}

/// Small HTTP helpers for end-to-end tests.
public enum TestHTTP {
    /// GETs a URL; returns status and body, or nil when nothing answers.
    public static func get(_ url: String) async -> (status: Int, body: String)? {
        guard let url = URL(string: url) else { return nil }
        var request = URLRequest(url: url)
        request.timeoutInterval = 5
        guard let (data, response) = try? await URLSession.shared.data(for: request),
            let http = response as? HTTPURLResponse
        else { return nil }
        return (http.statusCode, String(decoding: data, as: UTF8.self))
    }

    /// Polls a URL until it answers with `status` or the deadline passes; returns the last answer.
    public static func waitFor(
        _ url: String, status: Int, timeout: Duration = .seconds(60)
    ) async -> (status: Int, body: String)? {
        await waitFor(url, timeout: timeout) { answer in answer.status == status }
    }

    /// Polls a URL until an answer satisfies `accept` or the deadline passes; returns the last answer.
    public static func waitFor(
        _ url: String, timeout: Duration = .seconds(60),
        until accept: ((status: Int, body: String)) -> Bool
    ) async -> (status: Int, body: String)? {
        let deadline = ContinuousClock.now + timeout
        var last: (status: Int, body: String)?
        while ContinuousClock.now < deadline {
            last = await get(url)
            if let answer = last, accept(answer) { return last }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return last
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now, and that no other caller in this
    /// process has been given.
    ///
    /// Ports come from 10000–19999, below Linux's ephemeral range (32768–60999): a port the kernel hands
    /// out for `bind(0)` is also the kind it gives the next outgoing connection (to PostgreSQL, to the
    /// broker), so a service told to listen there a moment later could find it taken.
    public static func freePort() -> Int {
        handedOutPorts.withLock { handedOut in
            while true {
                let candidate = Int.random(in: 10000..<20000)
                guard !handedOut.contains(candidate), canBind(port: candidate) else { continue }
                handedOut.insert(candidate)
                return candidate
            }
        }
    }

    private static let handedOutPorts = Mutex<Set<Int>>([])

    /// Whether a listening socket could bind 127.0.0.1:`port` now.
    private static func canBind(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
