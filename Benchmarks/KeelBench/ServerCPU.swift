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
