// callback-gateway: takes callbacks from remote workers over HTTP (POST /v1/callbacks, uploads) and
// keel.callbacks, verifies their tokens and applies each wait's answer once. See README.md beside this file.
import Foundation
import KeelBus
import KeelService
import KeelStore

@main
enum CallbackGateway {
    static func main() async {
        let settings: CallbackGatewaySettings
        do {
            settings = try CallbackGatewaySettings(environment: ProcessInfo.processInfo.environment)
        } catch {
            KeelLogHandler.standardError("callback-gateway: \(error)")
            exit(2)
        }
        await KeelServiceMain.main(
            .callbackGateway,
            services: { dependencies in
                [
                    CallbackMessages.consumer(
                        receiver: receiver(settings, dependencies), pool: dependencies.pool,
                        connection: dependencies.amqp.connected,
                        publishing: dependencies.publishing.connected,
                        prefetch: dependencies.configuration.prefetch,
                        logger: dependencies.logger),
                    OutboxRelay(
                        pool: dependencies.pool, connection: dependencies.publishing.connected,
                        logger: dependencies.logger),
                ]
            },
            routes: { router, dependencies in
                let receiver = receiver(settings, dependencies)
                CallbackAPI(
                    receiver: receiver,
                    uploads: CallbackUploads(
                        resources: receiver.resources, maximumBytes: settings.uploadMaximumBytes)
                ).add(to: router)
            })
    }

    static func receiver(_ settings: CallbackGatewaySettings, _ dependencies: KeelServiceMain.Dependencies)
        -> CallbackReceiver
    {
        let pool = dependencies.pool
        let resources: ResourceStore
        do {
            resources = try ResourceStore(pool: pool, configuration: settings.resources)
        } catch {
            dependencies.logger.critical("invalid resource settings", metadata: ["error": "\(error)"])
            exit(2)
        }
        return CallbackReceiver(
            keys: settings.keys,
            callbacks: CallbackStore(
                pool: pool, advancer: RunAdvancer(pool: pool, settings: dependencies.configuration.engine)),
            runs: RunStore(pool: pool), resources: resources, limits: settings.resources.limits,
            logger: dependencies.logger)
    }
}
