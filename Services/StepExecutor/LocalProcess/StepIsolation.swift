#if canImport(Glibc)
    import Glibc
#endif
import KeelService
import Configuration
import Foundation

/// Whose identity `run` steps get (`KEEL_STEP_ISOLATION`, docs/security.md).
///
/// - `uid-range` (the default): each attempt in flight runs as a uid of its own from
///   `KEEL_STEP_UID_RANGE`, so a step cannot read the executor's environment, memory, key files or
///   another attempt's files and processes. The executor needs root's capabilities for it; without them
///   it refuses to start rather than run steps as itself.
/// - `none`: steps run as the executor's own user (a developer's machine without root). Only the clean
///   environment, the closed descriptors and the non-dumpable executor stand between a step and secrets.
enum StepIsolation: Sendable, Hashable {
    case none
    case uidRange(ClosedRange<UInt32>)

    static let defaultRange: ClosedRange<UInt32> = 2_000_000...2_000_999

    /// Reads `KEEL_STEP_ISOLATION` and `KEEL_STEP_UID_RANGE` (`<first>-<last>`).
    init(reader: ConfigReader) throws(StepIsolationError) {
        let mode =
            reader.string(environmentName: "KEEL_STEP_ISOLATION").flatMap { $0.isEmpty ? nil : $0 }
            ?? "uid-range"
        switch mode {
        case "none":
            self = .none
        case "uid-range":
            let setting = reader.string(environmentName: "KEEL_STEP_UID_RANGE").flatMap {
                $0.isEmpty ? nil : $0
            }
            self = .uidRange(try setting.map(Self.parseRange) ?? Self.defaultRange)
        default:
            throw .setting("KEEL_STEP_ISOLATION", mode, expected: "uid-range or none")
        }
    }

    /// `2000000-2000999`: both ends included, never root's or a system account's uid (below 1000), and
    /// small enough that uid + its range stays a valid id.
    static func parseRange(_ text: String) throws(StepIsolationError) -> ClosedRange<UInt32> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2,
            let first = UInt32(parts[0].trimmingCharacters(in: .whitespaces)),
            let last = UInt32(parts[1].trimmingCharacters(in: .whitespaces)), first <= last
        else {
            throw .setting("KEEL_STEP_UID_RANGE", text, expected: "<first>-<last>, e.g. 2000000-2000999")
        }
        guard first >= 1000, last < UInt32(Int32.max) else {
            throw .setting("KEEL_STEP_UID_RANGE", text, expected: "uids from 1000 to 2147483646")
        }
        return first...last
    }

    /// Why this process cannot isolate steps as asked; nil when it can. `uid-range` needs: setpriv, the
    /// capabilities to switch users, give directories away and signal other users' processes, a range
    /// that does not hold the executor's own uid, and a uid for every attempt the executor runs at once.
    func problem(maxInFlight: Int, setpriv: String?, effectiveCapabilities: UInt64?) -> String? {
        guard case .uidRange(let range) = self else { return nil }
        guard setpriv != nil else {
            return "KEEL_STEP_ISOLATION=uid-range needs setpriv (util-linux) in /usr/bin or /bin"
        }
        let missing = Self.requiredCapabilities.filter { (effectiveCapabilities ?? 0) & (1 << $0.bit) == 0 }
        guard missing.isEmpty else {
            return "KEEL_STEP_ISOLATION=uid-range runs each step as a uid of its own, which needs root "
                + "(missing \(missing.map(\.name).joined(separator: ", "))); run the executor as root, or set "
                + "KEEL_STEP_ISOLATION=none to run steps as the executor's own user (docs/security.md)"
        }
        guard !range.contains(getuid()), !range.contains(geteuid()) else {
            return "KEEL_STEP_UID_RANGE \(range.lowerBound)-\(range.upperBound) holds the executor's own uid"
        }
        guard range.count >= maxInFlight else {
            return "KEEL_STEP_UID_RANGE \(range.lowerBound)-\(range.upperBound) has \(range.count) uids, "
                + "fewer than the \(maxInFlight) attempts this executor runs at once (KEEL_AMQP_PREFETCH)"
        }
        return nil
    }

    /// CAP_CHOWN (give the attempt directory away), CAP_DAC_OVERRIDE (read and remove it afterwards),
    /// CAP_KILL (stop the step's processes), CAP_SETGID, CAP_SETUID, CAP_SETPCAP (empty the bounding set).
    static let requiredCapabilities: [(name: String, bit: UInt64)] = [
        ("CAP_CHOWN", 0), ("CAP_DAC_OVERRIDE", 1), ("CAP_KILL", 5), ("CAP_SETGID", 6), ("CAP_SETUID", 7),
        ("CAP_SETPCAP", 8),
    ]

    /// This process's effective capabilities (`CapEff` of /proc/self/status); nil when unreadable.
    static func effectiveCapabilities() -> UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
            return nil
        }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            return UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        }
        return nil
    }

    /// Where util-linux puts setpriv on Debian and most distributions; nil when it is in neither.
    static func findSetpriv() -> String? {
        ["/usr/bin/setpriv", "/bin/setpriv"].first { access($0, X_OK) == 0 }
    }
}

/// A step isolation setting that cannot be used; names the setting.
enum StepIsolationError: Error, Sendable, Hashable, CustomStringConvertible {
    case setting(String, String, expected: String)

    var description: String {
        switch self {
        case .setting(let name, let value, let expected):
            "invalid setting \(name)=\(value): expected \(expected)"
        }
    }
}
