import ArgumentParser
import Foundation
import KeelCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `keel status`: asks each service's `/health/ready` and shows which are up and why not.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show whether each Keel service is ready, and what it is waiting for.")

    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    struct ServiceStatus: Encodable {
        var service: String
        var url: String
        var ready: Bool
        var detail: String
    }

    func run() async throws {
        let output = CLIOutput(json: json)
        let settings = CLISettings()
        var statuses: [ServiceStatus] = []
        for service in KeelServiceKind.allCases {
            let base = settings.value(
                service.urlSettingName, flag: nil, default: "http://127.0.0.1:\(service.defaultPort)")
            statuses.append(await probe(service: service.rawValue, base: base))
        }
        output.emit(statuses) {
            statuses.map {
                "\($0.ready ? "ready    " : "NOT READY") \($0.service) \($0.url) \($0.detail)"
            }
            .joined(separator: "\n")
        }
        if statuses.contains(where: { !$0.ready }) { throw ExitCode(2) }
    }

    func probe(service: String, base: String) async -> ServiceStatus {
        guard let url = URL(string: base + "/health/ready") else {
            return ServiceStatus(service: service, url: base, ready: false, detail: "invalid URL")
        }
        var request = URLRequest(url: url)
        request.timeoutInterval = 3
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            let code = (response as? HTTPURLResponse)?.statusCode ?? 0
            struct Problem: Decodable { var detail: String? }
            let detail =
                code == 200
                ? "" : (try? JSONDecoder().decode(Problem.self, from: data))?.detail ?? "HTTP \(code)"
            return ServiceStatus(service: service, url: base, ready: code == 200, detail: detail)
        } catch {
            return ServiceStatus(service: service, url: base, ready: false, detail: "unreachable")
        }
    }
}
