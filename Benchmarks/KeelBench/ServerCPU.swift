import Foundation

/// CPU seconds used so far by every process of one server (all PostgreSQL backends and its background
/// processes; RabbitMQ's Erlang VM), read from /proc: the engine's cost includes the servers' share.
///
/// A process that exits between two readings takes its CPU with it (a PostgreSQL backend whose
/// connection closed); the services hold their connections for the whole engine phase, so that is
/// the bench's own short connections at most.
struct ServerCPU {
    /// The process names (`/proc/<pid>/comm`) that make up the server.
    let names: Set<String>

    static let postgres = ServerCPU(names: ["postgres"])
    static let rabbitmq = ServerCPU(names: ["beam.smp", "erl_child_setup", "inet_gethost", "epmd"])

    /// Seconds of user plus system CPU, summed over the server's processes alive now.
    var seconds: Double {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
        var ticks = 0.0
        for pid in entries where pid.allSatisfy(\.isNumber) {
            guard
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"),
                names.contains(String(stat[stat.index(after: open)..<close]))
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
                continue
            }
            ticks += user + system
        }
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// This process's own CPU seconds (the bench publishing and polling).
    static var ownSeconds: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}

/// The largest resident set of each Keel service over the engine phase.
enum PeakMemory {
    /// Samples every 100 ms until cancelled; returns each process's peak.
    static func sample(_ processes: [(name: String, pid: Int32)]) async -> [(name: String, bytes: Int)] {
        var peaks = processes.map { (name: $0.name, bytes: residentBytes($0.pid)) }
        while !Task.isCancelled {
            for (index, process) in processes.enumerated() {
                peaks[index].bytes = max(peaks[index].bytes, residentBytes(process.pid))
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return peaks
    }

    /// VmRSS from /proc, 0 when unknown.
    static func residentBytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return kilobytes << 10
    }
}
