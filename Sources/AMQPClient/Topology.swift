/// The exchanges, queues and bindings declared through a connection, in declaration order, so recovery
/// can declare them again on a new connection (exclusive and auto-delete queues vanish with the old one).
struct Topology {
    enum Record: Hashable {
        case exchange(name: String, type: AMQPExchangeType, durable: Bool, arguments: AMQPTable)
        case queue(name: String, durable: Bool, exclusive: Bool, autoDelete: Bool, arguments: AMQPTable)
        case binding(queue: String, exchange: String, routingKey: String, arguments: AMQPTable)

        /// Two records with the same identity describe the same broker object; the later one wins.
        var identity: String {
            switch self {
            case .exchange(let name, _, _, _): "e\u{0}\(name)"
            case .queue(let name, _, _, _, _): "q\u{0}\(name)"
            case .binding(let queue, let exchange, let routingKey, let arguments):
                "b\u{0}\(queue)\u{0}\(exchange)\u{0}\(routingKey)\u{0}\(arguments.hashValue)"
            }
        }
    }

    private(set) var records: [Record] = []

    mutating func record(_ record: Record) {
        let identity = record.identity
        if let index = records.firstIndex(where: { $0.identity == identity }) {
            records[index] = record
        } else {
            records.append(record)
        }
    }

    /// Forgets a deleted queue and its bindings.
    mutating func removeQueue(_ name: String) {
        records.removeAll { record in
            switch record {
            case .queue(let queue, _, _, _, _), .binding(let queue, _, _, _): queue == name
            case .exchange: false
            }
        }
    }
}
