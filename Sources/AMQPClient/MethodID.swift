import CRabbitMQ

/// AMQP 0-9-1 method numbers (class << 16 | method). librabbitmq defines them as casting macros,
/// which Swift cannot import.
enum MethodID {
    static let connectionClose: amqp_method_number_t = 0x000A_0032
    static let connectionCloseOK: amqp_method_number_t = 0x000A_0033
    static let connectionBlocked: amqp_method_number_t = 0x000A_003C
    static let connectionUnblocked: amqp_method_number_t = 0x000A_003D
    static let channelOpen: amqp_method_number_t = 0x0014_000A
    static let channelOpenOK: amqp_method_number_t = 0x0014_000B
    static let channelFlow: amqp_method_number_t = 0x0014_0014
    static let channelFlowOK: amqp_method_number_t = 0x0014_0015
    static let channelClose: amqp_method_number_t = 0x0014_0028
    static let channelCloseOK: amqp_method_number_t = 0x0014_0029
    static let exchangeDeclare: amqp_method_number_t = 0x0028_000A
    static let exchangeDeclareOK: amqp_method_number_t = 0x0028_000B
    static let exchangeDelete: amqp_method_number_t = 0x0028_0014
    static let exchangeDeleteOK: amqp_method_number_t = 0x0028_0015
    static let queueDeclare: amqp_method_number_t = 0x0032_000A
    static let queueDeclareOK: amqp_method_number_t = 0x0032_000B
    static let queueBind: amqp_method_number_t = 0x0032_0014
    static let queueBindOK: amqp_method_number_t = 0x0032_0015
    static let queuePurge: amqp_method_number_t = 0x0032_001E
    static let queuePurgeOK: amqp_method_number_t = 0x0032_001F
    static let queueDelete: amqp_method_number_t = 0x0032_0028
    static let queueDeleteOK: amqp_method_number_t = 0x0032_0029
    static let queueUnbind: amqp_method_number_t = 0x0032_0032
    static let queueUnbindOK: amqp_method_number_t = 0x0032_0033
    static let basicQos: amqp_method_number_t = 0x003C_000A
    static let basicQosOK: amqp_method_number_t = 0x003C_000B
    static let basicConsume: amqp_method_number_t = 0x003C_0014
    static let basicConsumeOK: amqp_method_number_t = 0x003C_0015
    static let basicCancel: amqp_method_number_t = 0x003C_001E
    static let basicCancelOK: amqp_method_number_t = 0x003C_001F
    static let basicReturn: amqp_method_number_t = 0x003C_0032
    static let basicDeliver: amqp_method_number_t = 0x003C_003C
    static let basicGet: amqp_method_number_t = 0x003C_0046
    static let basicGetOK: amqp_method_number_t = 0x003C_0047
    static let basicGetEmpty: amqp_method_number_t = 0x003C_0048
    static let basicAck: amqp_method_number_t = 0x003C_0050
    static let basicReject: amqp_method_number_t = 0x003C_005A
    static let basicNack: amqp_method_number_t = 0x003C_0078
    static let confirmSelect: amqp_method_number_t = 0x0055_000A
    static let confirmSelectOK: amqp_method_number_t = 0x0055_000B
}

/// Property flags of the basic class (`AMQP_BASIC_*_FLAG`).
enum BasicFlag {
    static let contentType: amqp_flags_t = 1 << 15
    static let contentEncoding: amqp_flags_t = 1 << 14
    static let headers: amqp_flags_t = 1 << 13
    static let deliveryMode: amqp_flags_t = 1 << 12
    static let priority: amqp_flags_t = 1 << 11
    static let correlationID: amqp_flags_t = 1 << 10
    static let replyTo: amqp_flags_t = 1 << 9
    static let expiration: amqp_flags_t = 1 << 8
    static let messageID: amqp_flags_t = 1 << 7
    static let timestamp: amqp_flags_t = 1 << 6
    static let type: amqp_flags_t = 1 << 5
    static let userID: amqp_flags_t = 1 << 4
    static let appID: amqp_flags_t = 1 << 3
}
