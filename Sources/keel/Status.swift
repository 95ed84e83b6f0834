import ArgumentParser
import Foundation
import KeelCore

import AsyncHTTPClient

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
        guard URL(string: base + "/health/ready") != nil else {
            return ServiceStatus(service: service, url: base, ready: false, detail: "invalid URL")
        }
        do {
            let answer = try await CLIHTTPClient.send(
                HTTPClientRequest(url: base + "/health/ready"), timeout: .seconds(3))
            struct Problem: Decodable { var detail: String? }
            let detail =
                answer.status == 200
                ? ""
                : (try? JSONDecoder().decode(Problem.self, from: answer.body))?.detail
                    ?? "HTTP \(answer.status)"
            return ServiceStatus(service: service, url: base, ready: answer.status == 200, detail: detail)
        } catch {
            return ServiceStatus(service: service, url: base, ready: false, detail: "unreachable")
        }
    }
}
