import CRabbitMQ

/// What `AMQPChannel`'s methods do on the I/O thread.
extension ConnectionLoop {
    /// The channel for a call, or the waiter failed with why it cannot be used.
    private func usableChannel<Value>(_ id: UInt16, _ waiter: Waiter<Value>) -> ChannelState? {
        guard let channel = channels[id] else {
            waiter.resume(throwing: AMQPError(.connectionClosed, reason: "channel \(id) is closed"))
            return nil
        }
        if case .closed(let error) = channel.status {
            waiter.resume(throwing: error)
            return nil
        }
        return channel
    }

    func openChannel(_ waiter: Waiter<UInt16>) {
        guard let id = allocateChannelID() else {
            waiter.resume(
                throwing: AMQPError(
                    .protocolError, operation: "channel.open", reason: "no free channel number"))
            return
        }
        let channel = ChannelState(id: id)
        channels[id] = channel
        enqueue(
            openRPC(channel) { [unowned self] result in
                switch result {
                case .success:
                    waiter.resume(returning: id)
                case .failure(let error):
                    if self.channels[id] === channel { self.channels[id] = nil }
                    waiter.resume(throwing: error)
                }
            }, on: channel)
    }

    func declare(_ record: Topology.Record, on id: UInt16, _ waiter: Waiter<AMQPQueueInfo?>) {
        guard let channel = usableChannel(id, waiter) else { return }
        enqueue(
            declareRPC(record, channel: channel, isAbandoned: { waiter.isFinished }) { result in
                waiter.resume(with: result.mapError { $0 })
            }, on: channel)
    }

    /// queue.delete and queue.purge.
    func queueOperation(delete: Bool, queue: String, on id: UInt16, _ waiter: Waiter<Void>) {
        guard let channel = usableChannel(id, waiter) else { return }
        let operation = delete ? "queue.delete '\(queue)'" : "queue.purge '\(queue)'"
        enqueue(
            ChannelRPC(
                operation: operation, replies: [delete ? MethodID.queueDeleteOK : MethodID.queuePurgeOK],
                isAbandoned: { waiter.isFinished },
                send: { loop in
                    if delete {
                        var method = amqp_queue_delete_t()
                        method.queue = loop.encoder.bytes(queue)
                        return loop.send(MethodID.queueDelete, method, on: id)
                    }
                    var method = amqp_queue_purge_t()
                    method.queue = loop.encoder.bytes(queue)
                    return loop.send(MethodID.queuePurge, method, on: id)
                },
                complete: { [unowned self] outcome in
                    if case .failure(let error) = outcome {
                        waiter.resume(throwing: error)
                        return
                    }
                    if delete { self.topology.removeQueue(queue) }
                    waiter.resume(returning: ())
                }), on: channel)
    }

    func setPrefetch(_ prefetch: UInt16, on id: UInt16, _ waiter: Waiter<Void>) {
        guard let channel = usableChannel(id, waiter) else { return }
        enqueue(
            qosRPC(channel, prefetch, isAbandoned: { waiter.isFinished }) {
                waiter.resume(with: $0.mapError { $0 })
            },
            on: channel)
    }

    func enableConfirms(on id: UInt16, _ waiter: Waiter<Void>) {
        guard let channel = usableChannel(id, waiter) else { return }
        if channel.confirmMode { return waiter.resume(returning: ()) }
        enqueue(
            confirmSelectRPC(channel, isAbandoned: { waiter.isFinished }) {
                waiter.resume(with: $0.mapError { $0 })
            },
            on: channel)
    }

    /// Writes a message; with confirms, the waiter is resumed by the broker's ack, nack or return.
    func publish(
        _ body: [UInt8], exchange: String, routingKey: String, properties: AMQPProperties,
        mandatory: Bool,
        on id: UInt16, _ waiter: Waiter<Void>
    ) {
        guard let channel = usableChannel(id, waiter), let connection else { return }
        guard channel.isOpen else { return waiter.resume(throwing: channel.unusableError) }
        // The content header is one frame: its payload is the frame less 7 bytes of header and 1 of end.
        let limit = Int(amqp_get_frame_max(connection)) - 8
        let size = properties.encodedSize
        guard size <= limit else {
            return waiter.resume(
                throwing: AMQPError(.propertiesTooLarge(size: size, limit: limit), operation: "basic.publish")
            )
        }
        var cProperties = encoder.properties(properties)
        let status = body.withUnsafeBytes { buffer in
            amqp_basic_publish(
                connection, id, encoder.bytes(exchange), encoder.bytes(routingKey), mandatory ? 1 : 0, 0,
                &cProperties,
                amqp_bytes_t(
                    len: buffer.count, bytes: UnsafeMutableRawPointer(mutating: buffer.baseAddress)))
        }
        encoder.reset()
        guard status == AMQP_STATUS_OK.rawValue else {
            let error = AMQPError(
                .connectionClosed, operation: "basic.publish", reason: Self.statusText(status))
            waiter.resume(throwing: error)
            connectionLost(error)
            return
        }
        guard channel.confirmMode else { return waiter.resume(returning: ()) }
        channel.unconfirmed.append(
            sequence: channel.nextPublishSequence, waiter: waiter,
            mandatory: mandatory
                ? PendingConfirms.Mandatory(exchange: exchange, routingKey: routingKey, body: body) : nil)
        channel.nextPublishSequence += 1
    }

    func consume(
        queue: String, tag: String,
        continuation: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation,
        on id: UInt16, _ waiter: Waiter<Void>
    ) {
        guard let channel = usableChannel(id, waiter) else { return }
        if channel.prefetch == nil {
            // Deliveries are buffered for the consumer only up to the prefetch, so there must be one.
            enqueue(qosRPC(channel, AMQPChannel.defaultPrefetch) { _ in }, on: channel)
        }
        channel.consumers[tag] = ConsumerRecord(queue: queue, continuation: continuation)
        enqueue(
            consumeRPC(channel, queue: queue, tag: tag, isAbandoned: { waiter.isFinished }) { result in
                if case .failure(let error) = result {
                    channel.consumers[tag] = nil
                    continuation.finish(throwing: error)
                }
                waiter.resume(with: result.mapError { $0 })
            }, on: channel)
    }

    /// Stops a consumer whose sequence ended; its unacknowledged messages return to the queue when the
    /// channel closes.
    func cancelConsumer(tag: String, on id: UInt16) {
        guard let channel = channels[id], channel.consumers.removeValue(forKey: tag) != nil else {
            return
        }
        guard case .ready = phase, channel.isOpen else { return }
        enqueue(
            ChannelRPC(
                operation: "basic.cancel '\(tag)'", replies: [MethodID.basicCancelOK],
                isAbandoned: { false },
                send: { loop in
                    var cancel = amqp_basic_cancel_t()
                    cancel.consumer_tag = loop.encoder.bytes(tag)
                    return loop.send(MethodID.basicCancel, cancel, on: id)
                },
                complete: { _ in }), on: channel)
    }

    enum Settlement {
        case ack(multiple: Bool)
        case nack(multiple: Bool, requeue: Bool)
        case reject(requeue: Bool)
    }

    /// Acks, nacks or rejects a delivery; nobody waits for it (see `AMQPChannel.ack`). A delivery from
    /// before a reconnection is stale: its tag would name another message now, so nothing is sent (the
    /// broker redelivers it).
    func settle(_ delivery: AMQPDelivery, _ settlement: Settlement, on id: UInt16) {
        guard connection != nil, let channel = channels[id], channel.isOpen,
            channel.epoch == delivery.epoch
        else {
            logger.debug(
                "AMQP not settling a delivery from before a reconnection or on a closed channel",
                metadata: ["amqp.channel": "\(id)", "amqp.delivery_tag": "\(delivery.deliveryTag)"])
            return
        }
        let tag = delivery.deliveryTag
        if case .ack(let multiple) = settlement, multiple || channel.outstanding.first == tag {
            // Every earlier delivery is settled already: coalesce with the other in-order acks of this
            // batch into one multiple-ack, written by `flushAcks` before the thread sleeps.
            channel.outstanding.settled(tag, multiple: multiple)
            channel.pendingAck = max(channel.pendingAck ?? 0, tag)
            acksPending = true
            return
        }
        flushAck(on: channel)
        switch settlement {
        case .ack(let multiple), .nack(let multiple, _):
            channel.outstanding.settled(tag, multiple: multiple)
        case .reject:
            channel.outstanding.settled(tag, multiple: false)
        }
        let status: Int32
        switch settlement {
        case .ack(let multiple):
            status = send(
                MethodID.basicAck,
                amqp_basic_ack_t(delivery_tag: delivery.deliveryTag, multiple: multiple ? 1 : 0),
                on: id)
        case .nack(let multiple, let requeue):
            status = send(
                MethodID.basicNack,
                amqp_basic_nack_t(
                    delivery_tag: delivery.deliveryTag, multiple: multiple ? 1 : 0, requeue: requeue ? 1 : 0),
                on: id)
        case .reject(let requeue):
            status = send(
                MethodID.basicReject,
                amqp_basic_reject_t(delivery_tag: delivery.deliveryTag, requeue: requeue ? 1 : 0), on: id)
        }
        if status != AMQP_STATUS_OK.rawValue {
            // The message stays unacknowledged and is redelivered after recovery.
            connectionLost(
                AMQPError(.connectionClosed, operation: "basic.ack", reason: Self.statusText(status)))
        }
    }

    /// Writes the coalesced acks of every channel.
    func flushAcks() {
        guard acksPending else { return }
        acksPending = false
        for channel in channels.values where channel.pendingAck != nil {
            flushAck(on: channel)
        }
    }

    /// Writes a channel's coalesced acks; called before anything that must follow them on the wire.
    func flushAck(on channel: ChannelState) {
        guard let tag = channel.pendingAck else { return }
        channel.pendingAck = nil
        guard connection != nil, channel.isOpen else { return }
        let status = send(MethodID.basicAck, amqp_basic_ack_t(delivery_tag: tag, multiple: 1), on: channel.id)
        if status != AMQP_STATUS_OK.rawValue {
            connectionLost(
                AMQPError(.connectionClosed, operation: "basic.ack", reason: Self.statusText(status)))
        }
    }

    func get(queue: String, on id: UInt16, _ waiter: Waiter<AMQPDelivery?>) {
        guard let channel = usableChannel(id, waiter) else { return }
        enqueue(
            ChannelRPC(
                operation: "basic.get '\(queue)'", replies: [MethodID.basicGetOK, MethodID.basicGetEmpty],
                isAbandoned: { waiter.isFinished },
                send: { loop in
                    var get = amqp_basic_get_t()
                    get.queue = loop.encoder.bytes(queue)
                    return loop.send(MethodID.basicGet, get, on: id)
                },
                complete: { outcome in
                    switch outcome {
                    case .failure(let error): waiter.resume(throwing: error)
                    case .delivery(let delivery): waiter.resume(returning: delivery)
                    case .reply: waiter.resume(returning: nil)
                    }
                }), on: channel)
    }

    /// channel.close by the client; consumers end normally and the number is freed.
    func closeChannel(_ id: UInt16, _ waiter: Waiter<Void>?) {
        guard let channel = channels[id] else {
            waiter?.resume(returning: ())
            return
        }
        flushAck(on: channel)
        let closed = AMQPError(.connectionClosed, reason: "channel \(id) was closed")
        guard case .ready = phase, channel.isOpen else {
            closeChannel(channel, error: closed, consumersFailWith: nil)
            channels[id] = nil
            waiter?.resume(returning: ())
            return
        }
        enqueue(
            ChannelRPC(
                operation: "channel.close", replies: [MethodID.channelCloseOK], isAbandoned: { false },
                send: { loop in
                    var close = amqp_channel_close_t()
                    close.reply_code = UInt16(AMQP_REPLY_SUCCESS)
                    return loop.send(MethodID.channelClose, close, on: id)
                },
                complete: { [unowned self] _ in
                    self.closeChannel(channel, error: closed, consumersFailWith: nil)
                    if self.channels[id] === channel { self.channels[id] = nil }
                    waiter?.resume(returning: ())
                }), on: channel)
    }
}
