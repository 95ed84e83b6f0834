/// How an exchange routes messages to the queues bound to it.
public enum AMQPExchangeType: String, Sendable, Hashable {
    /// To queues whose binding key equals the routing key.
    case direct
    /// To every bound queue, ignoring the routing key.
    case fanout
    /// To queues whose binding pattern (`*` one word, `#` any words) matches the routing key.
    case topic
    /// To queues whose binding arguments match the message headers.
    case headers
}
