public import KeelCore
import Foundation
public import Hummingbird
public import Prometheus

/// `/health/live`, `/health/ready` and `/metrics`, the same on every service (DESIGN §7).
public enum HealthRoutes {
    /// Adds the three endpoints to a router.
    ///
    /// `live` answers 200 while the process can serve HTTP at all; `ready` runs the readiness checks and
    /// answers 503 problem JSON naming each failing dependency; `metrics` is the Prometheus text format.
    public static func add<Context: RequestContext>(
        to router: Router<Context>, service: KeelServiceKind, readiness: Readiness,
        registry: PrometheusCollectorRegistry
    ) {
        router.get("/health/live") { _, _ in
            jsonResponse(.ok, HealthBody(service: service.rawValue, status: "live", checks: nil))
        }
        router.get("/health/ready") { request, _ in
            let results = await readiness.evaluate()
            let failing = results.filter { !$0.ready }
            guard failing.isEmpty else {
                throw ProblemDetails(
                    status: .serviceUnavailable,
                    type: "/problems/not-ready",
                    title: "Service not ready",
                    detail: failing.map { "\($0.name): \($0.error ?? "not ready")" }.joined(
                        separator: "; "),
                    instance: request.uri.path)
            }
            return jsonResponse(
                .ok, HealthBody(service: service.rawValue, status: "ready", checks: results))
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    struct HealthBody: Codable {
        var service: String
        var status: String
        var checks: [Readiness.Result]?
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ body: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
