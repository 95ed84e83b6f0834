import Foundation
import Hummingbird
import KeelAPI
import KeelBus
import KeelService
import KeelStore
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import PGClient

/// Puts the operators' API on the approval-service's router: the generated routes behind
/// `ProblemResponses`, `BearerAuthentication` and `BodyLimit` (in that order: the first middleware
/// sees the request first, so nobody's body is read before their token is checked), and the document itself at `/openapi.yaml`.
enum OperatorAPIRoutes {
    static func add(
        to router: Router<BasicRequestContext>, pool: PGPool, advancer: RunAdvancer,
        publishing: AMQPConnectionService, logger: Logger
    ) {
        let runs = RunStore(pool: pool)
        let rejections = TriggerRejectionStore(pool: pool)
        let tokens = APITokenStore(pool: pool)
        let api = OperatorAPI(
            runs: runs, flows: FlowStore(pool: pool), tokens: tokens, rejections: rejections,
            advancer: advancer,
            starter: RunStarter(publishing: publishing, runs: runs, rejections: rejections),
            actions: ActionLog(store: APIActionStore(pool: pool), logger: logger))
        do {
            try api.registerHandlers(
                on: router, configuration: .keel,
                middlewares: [
                    ProblemResponses(logger: logger), BearerAuthentication(tokens: tokens), BodyLimit(),
                ])
        } catch {
            // Only a malformed server URL makes this throw, and the URL is the generator's default.
            preconditionFailure("the operators' API routes cannot be registered: \(error)")
        }
        let document = (try? OpenAPIDocument.yaml()).map { ByteBuffer(bytes: Array($0)) }
        router.get("/openapi.yaml") { _, _ in
            guard let document else { throw HTTPError(.notFound) }
            return Response(
                status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: document))
        }
    }
}
