// trigger-intake: consumes keel.triggers, validates and dedupes triggers, creates runs; invalid
// triggers are dead-lettered with their reason, recorded and answered. It also fires the flows'
// schedules. See README.md beside this file.
import KeelBus
import KeelService

@main
enum TriggerIntake {
    static func main() async {
        await KeelServiceMain.main(.triggerIntake) { dependencies in
            // One handler (and one cache of compiled flows) for triggers and schedule ticks alike.
            let handler = TriggerHandler(
                pool: dependencies.pool, engine: dependencies.configuration.engine,
                logger: dependencies.logger)
            return [
                TriggerConsumer.make(
                    handler: handler,
                    connection: dependencies.amqp.connected, publishing: dependencies.publishing.connected,
                    prefetch: dependencies.configuration.prefetch, logger: dependencies.logger),
                OutboxRelay(
                    pool: dependencies.pool, connection: dependencies.publishing.connected,
                    logger: dependencies.logger),
                ScheduleFirer(handler: handler, logger: dependencies.logger),
            ]
        }
    }
}
