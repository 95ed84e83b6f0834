import CRabbitMQ

/// Synchronous AMQP methods: one in flight per channel, the rest queued behind it (I/O thread).
extension ConnectionLoop {
    func enqueue(_ rpc: ChannelRPC, on channel: ChannelState) {
        if case .closed(let error) = channel.status {
            rpc.complete(.failure(error))
            return
        }
        channel.rpcs.append(rpc)
        sendNextRPC(on: channel)
    }

    func sendNextRPC(on channel: ChannelState) {
        while !channel.rpcInFlight, let rpc = channel.rpcs.first {
            if rpc.isAbandoned() {
                channel.rpcs.removeFirst()
                continue
            }
            guard connection != nil else { return }
            let status = rpc.send(self)
            encoder.reset()
            guard status == AMQP_STATUS_OK.rawValue else {
                connectionLost(
                    AMQPError(.connectionClosed, operation: rpc.operation, reason: Self.statusText(status)))
                return
            }
            channel.rpcInFlight = true
        }
    }

    /// An RPC whose reply only signals success.
    private func plainRPC(
        _ operation: String, reply: amqp_method_number_t, isAbandoned: @escaping () -> Bool = { false },
        send: @escaping (ConnectionLoop) -> Int32,
        completion: @escaping (Result<Void, AMQPError>) -> Void
    ) -> ChannelRPC {
        ChannelRPC(
            operation: operation, replies: [reply], isAbandoned: isAbandoned, send: send,
            complete: { outcome in
                switch outcome {
                case .failure(let error): completion(.failure(error))
                case .reply, .delivery: completion(.success(()))
                }
            })
    }

    func openRPC(_ channel: ChannelState, completion: @escaping (Result<Void, AMQPError>) -> Void)
        -> ChannelRPC
    {
        plainRPC(
            "channel.open", reply: MethodID.channelOpenOK,
            send: { loop in
                loop.send(
                    MethodID.channelOpen, amqp_channel_open_t(out_of_band: amqp_bytes_t(len: 0, bytes: nil)),
                    on: channel.id)
            },
            completion: { result in
                if case .success = result {
                    channel.status = .open
                    channel.wasOpened = true
                    channel.epoch &+= 1
                }
                completion(result)
            })
    }

    func qosRPC(
        _ channel: ChannelState, _ prefetch: UInt16, isAbandoned: @escaping () -> Bool = { false },
        completion: @escaping (Result<Void, AMQPError>) -> Void
    ) -> ChannelRPC {
        plainRPC(
            "basic.qos \(prefetch)", reply: MethodID.basicQosOK, isAbandoned: isAbandoned,
            send: { loop in
                loop.send(
                    MethodID.basicQos,
                    amqp_basic_qos_t(prefetch_size: 0, prefetch_count: prefetch, global: 0),
                    on: channel.id)
            },
            completion: { result in
                if case .success = result { channel.prefetch = prefetch }
                completion(result)
            })
    }

    func confirmSelectRPC(
        _ channel: ChannelState, isAbandoned: @escaping () -> Bool = { false },
        completion: @escaping (Result<Void, AMQPError>) -> Void
    ) -> ChannelRPC {
        plainRPC(
            "confirm.select", reply: MethodID.confirmSelectOK, isAbandoned: isAbandoned,
            send: { loop in
                let status = loop.send(
                    MethodID.confirmSelect, amqp_confirm_select_t(nowait: 0), on: channel.id)
                if status == AMQP_STATUS_OK.rawValue, !channel.confirmMode || channel.unconfirmed.isEmpty {
                    channel.nextPublishSequence = 1
                }
                return status
            },
            completion: { result in
                if case .success = result { channel.confirmMode = true }
                completion(result)
            })
    }

    func consumeRPC(
        _ channel: ChannelState, queue: String, tag: String,
        isAbandoned: @escaping () -> Bool = { false },
        completion: @escaping (Result<Void, AMQPError>) -> Void
    ) -> ChannelRPC {
        plainRPC(
            "basic.consume '\(queue)'", reply: MethodID.basicConsumeOK, isAbandoned: isAbandoned,
            send: { loop in
                var consume = amqp_basic_consume_t()
                consume.queue = loop.encoder.bytes(queue)
                consume.consumer_tag = loop.encoder.bytes(tag)
                return loop.send(MethodID.basicConsume, consume, on: channel.id)
            },
            completion: completion)
    }

    /// Declares an exchange or queue, or binds one; records it for recovery on success.
    func declareRPC(
        _ record: Topology.Record, channel: ChannelState, isAbandoned: @escaping () -> Bool = { false },
        completion: @escaping (Result<AMQPQueueInfo?, AMQPError>) -> Void
    ) -> ChannelRPC {
        let operation: String
        let reply: amqp_method_number_t
        let send: (ConnectionLoop) -> Int32
        switch record {
        case .exchange(let name, let type, let durable, let arguments):
            operation = "exchange.declare '\(name)'"
            reply = MethodID.exchangeDeclareOK
            send = { loop in
                var method = amqp_exchange_declare_t()
                method.exchange = loop.encoder.bytes(name)
                method.type = loop.encoder.bytes(type.rawValue)
                method.durable = durable ? 1 : 0
                method.arguments = loop.encoder.table(arguments)
                return loop.send(MethodID.exchangeDeclare, method, on: channel.id)
            }
        case .queue(let name, let durable, let exclusive, let autoDelete, let arguments):
            operation = "queue.declare '\(name)'"
            reply = MethodID.queueDeclareOK
            send = { loop in
                var method = amqp_queue_declare_t()
                method.queue = loop.encoder.bytes(name)
                method.durable = durable ? 1 : 0
                method.exclusive = exclusive ? 1 : 0
                method.auto_delete = autoDelete ? 1 : 0
                method.arguments = loop.encoder.table(arguments)
                return loop.send(MethodID.queueDeclare, method, on: channel.id)
            }
        case .binding(let queue, let exchange, let routingKey, let arguments):
            operation = "queue.bind '\(queue)' to '\(exchange)'"
            reply = MethodID.queueBindOK
            send = { loop in
                var method = amqp_queue_bind_t()
                method.queue = loop.encoder.bytes(queue)
                method.exchange = loop.encoder.bytes(exchange)
                method.routing_key = loop.encoder.bytes(routingKey)
                method.arguments = loop.encoder.table(arguments)
                return loop.send(MethodID.queueBind, method, on: channel.id)
            }
        }
        return ChannelRPC(
            operation: operation, replies: [reply], isAbandoned: isAbandoned, send: send,
            complete: { [unowned self] outcome in
                switch outcome {
                case .failure(let error):
                    completion(.failure(error))
                case .delivery:
                    completion(.success(nil))
                case .reply(let method):
                    var info: AMQPQueueInfo?
                    var recorded = record
                    if method.id == MethodID.queueDeclareOK, let decoded = method.decoded {
                        let ok = decoded.assumingMemoryBound(to: amqp_queue_declare_ok_t.self).pointee
                        info = AMQPQueueInfo(
                            name: CDecoder.string(ok.queue), messageCount: ok.message_count,
                            consumerCount: ok.consumer_count)
                        if case .queue(let name, let durable, let exclusive, let autoDelete, let arguments) =
                            record,
                            name.isEmpty, let info
                        {
                            recorded = .queue(
                                name: info.name, durable: durable, exclusive: exclusive,
                                autoDelete: autoDelete,
                                arguments: arguments)
                        }
                    }
                    // Server-named queues cannot be re-declared under their old (amq.gen-) name.
                    if case .queue(let name, _, _, _, _) = recorded, name.hasPrefix("amq.gen-") {
                    } else {
                        self.topology.record(recorded)
                    }
                    completion(.success(info))
                }
            })
    }
}
