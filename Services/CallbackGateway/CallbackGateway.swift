// callback-gateway: takes callbacks from remote workers over HTTP (POST /v1/callbacks, uploads) and
// keel.callbacks, verifies their tokens and applies each wait's answer once. See README.md beside this file.
import Foundation
import Hummingbird
import KeelBus
import KeelService
import KeelStore
import ServiceLifecycle

@main
enum CallbackGateway {
    static func main() async {
        await KeelServiceMain.main(
            .callbackGateway, settings: CallbackGatewaySettings.init(reader:), services: services,
            routes: routes)
    }

    /// The gateway's consumer of `keel.callbacks` and its outbox relay.
    static func services(
        _ dependencies: KeelServiceMain.Dependencies, _ settings: CallbackGatewaySettings
    ) throws -> [any Service] {
        [
            CallbackMessages.consumer(
                receiver: try receiver(settings, dependencies), pool: dependencies.pool,
                connection: dependencies.amqp.connected,
                publishing: dependencies.publishing.connected,
                prefetch: dependencies.configuration.prefetch,
                logger: dependencies.logger),
            OutboxRelay(
                pool: dependencies.pool, connection: dependencies.publishing.connected,
                logger: dependencies.logger),
        ]
    }

    /// `POST /v1/callbacks` and the uploads.
    static func routes(
        _ router: Router<BasicRequestContext>, _ dependencies: KeelServiceMain.Dependencies,
        _ settings: CallbackGatewaySettings
    ) throws {
        let receiver = try receiver(settings, dependencies)
        CallbackAPI(
            receiver: receiver,
            uploads: CallbackUploads(resources: receiver.resources, maximumBytes: settings.uploadMaximumBytes)
        ).add(to: router)
    }

    static func receiver(_ settings: CallbackGatewaySettings, _ dependencies: KeelServiceMain.Dependencies)
        throws -> CallbackReceiver
    {
        let pool = dependencies.pool
        return CallbackReceiver(
            keys: settings.keys,
            callbacks: CallbackStore(
                pool: pool, advancer: RunAdvancer(pool: pool, settings: dependencies.configuration.engine)),
            runs: RunStore(pool: pool),
            resources: try ResourceStore(pool: pool, configuration: settings.resources),
            limits: settings.resources.limits, logger: dependencies.logger)
    }
}
