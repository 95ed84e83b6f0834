import CRabbitMQ

/// Dispatch of incoming frames to channels, RPCs, confirms and consumers (I/O thread).
extension ConnectionLoop {
    func handle(_ frame: amqp_frame_t) {
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_METHOD:
            handleMethod(frame.payload.method, channel: frame.channel)
        case AMQP_FRAME_HEADER:
            handleHeader(frame)
        case AMQP_FRAME_BODY:
            handleBody(frame.payload.body_fragment, channel: frame.channel)
        default:
            break  // heartbeats: receiving them is all that matters
        }
    }

    private func handleMethod(_ method: amqp_method_t, channel id: UInt16) {
        if id == 0 {
            handleConnectionMethod(method)
            return
        }
        guard let channel = channels[id] else {
            logger.debug("AMQP method for an unknown channel", metadata: ["amqp.channel": "\(id)"])
            return
        }
        guard let decoded = method.decoded else { return }
        switch method.id {
        case MethodID.basicDeliver:
            let deliver = decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            channel.content = ContentAssembly(
                kind: .deliver(
                    consumerTag: CDecoder.string(deliver.consumer_tag), deliveryTag: deliver.delivery_tag,
                    redelivered: deliver.redelivered != 0),
                exchange: CDecoder.string(deliver.exchange),
                routingKey: CDecoder.string(deliver.routing_key))
        case MethodID.basicAck:
            let ack = decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            channel.unconfirmed.settle(tag: ack.delivery_tag, multiple: ack.multiple != 0, nacked: false)
        case MethodID.basicNack:
            let nack = decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            channel.unconfirmed.settle(tag: nack.delivery_tag, multiple: nack.multiple != 0, nacked: true)
        case MethodID.basicReturn:
            let returned = decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            channel.content = ContentAssembly(
                kind: .returned(
                    replyCode: returned.reply_code, replyText: CDecoder.string(returned.reply_text)),
                exchange: CDecoder.string(returned.exchange),
                routingKey: CDecoder.string(returned.routing_key))
        case MethodID.basicGetOK:
            let ok = decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
            channel.content = ContentAssembly(
                kind: .getOK(
                    deliveryTag: ok.delivery_tag, redelivered: ok.redelivered != 0,
                    messageCount: ok.message_count),
                exchange: CDecoder.string(ok.exchange), routingKey: CDecoder.string(ok.routing_key))
        case MethodID.channelClose:
            let close = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            send(MethodID.channelCloseOK, amqp_channel_close_ok_t(dummy: 0), on: id)
            let operation = channel.rpcInFlight ? channel.rpcs.first?.operation : nil
            let error = AMQPError(
                .channelClosed(replyCode: close.reply_code, replyText: CDecoder.string(close.reply_text)),
                operation: operation)
            logger.debug(
                "AMQP channel closed by the broker",
                metadata: ["amqp.channel": "\(id)", "amqp.error": "\(error)"])
            closeChannel(channel, error: error, consumersFailWith: error)
        case MethodID.basicCancel:
            let cancel = decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            let tag = CDecoder.string(cancel.consumer_tag)
            if cancel.nowait == 0 {
                var ok = amqp_basic_cancel_ok_t()
                ok.consumer_tag = encoder.bytes(tag)
                send(MethodID.basicCancelOK, ok, on: id)
                encoder.reset()
            }
            if let consumer = channel.consumers.removeValue(forKey: tag) {
                consumer.continuation.finish(
                    throwing: AMQPError(.consumerCancelled, operation: "consume '\(consumer.queue)'"))
            }
        case MethodID.channelFlow:
            let flow = decoded.assumingMemoryBound(to: amqp_channel_flow_t.self).pointee
            send(MethodID.channelFlowOK, amqp_channel_flow_ok_t(active: flow.active), on: id)
        default:
            completeRPC(on: channel, with: method)
        }
    }

    private func handleConnectionMethod(_ method: amqp_method_t) {
        switch method.id {
        case MethodID.connectionClose:
            var reason = "closed by the broker"
            if let decoded = method.decoded {
                let close = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                reason = "\(close.reply_code) \(CDecoder.string(close.reply_text))"
            }
            send(MethodID.connectionCloseOK, amqp_connection_close_ok_t(dummy: 0), on: 0)
            connectionLost(AMQPError(.connectionClosed, reason: reason))
        case MethodID.connectionBlocked:
            logger.warning("AMQP connection blocked by the broker (resource alarm); publishes will wait")
        case MethodID.connectionUnblocked:
            logger.info("AMQP connection unblocked")
        default:
            logger.debug("AMQP unexpected connection method", metadata: ["amqp.method": "\(method.id)"])
        }
    }

    /// Completes the in-flight RPC with its reply and sends the next one.
    private func completeRPC(on channel: ChannelState, with method: amqp_method_t) {
        guard channel.rpcInFlight, let rpc = channel.rpcs.first, rpc.replies.contains(method.id) else {
            logger.warning(
                "AMQP unexpected method",
                metadata: ["amqp.channel": "\(channel.id)", "amqp.method": "\(method.id)"])
            return
        }
        channel.rpcs.removeFirst()
        channel.rpcInFlight = false
        rpc.complete(.reply(method))
        sendNextRPC(on: channel)
    }

    private func handleHeader(_ frame: amqp_frame_t) {
        guard let channel = channels[frame.channel], var content = channel.content,
            !content.headerReceived
        else {
            return
        }
        content.headerReceived = true
        content.bodySize = Int(frame.payload.properties.body_size)
        if let decoded = frame.payload.properties.decoded {
            content.properties = CDecoder.properties(
                decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee)
        }
        content.body.reserveCapacity(content.bodySize)
        channel.content = content
        if content.isComplete { finishContent(on: channel) }
    }

    private func handleBody(_ fragment: amqp_bytes_t, channel id: UInt16) {
        guard let channel = channels[id], channel.content != nil else { return }
        if let base = fragment.bytes, fragment.len > 0 {
            channel.content?.body.append(
                contentsOf: UnsafeRawBufferPointer(start: base, count: fragment.len))
        }
        if channel.content?.isComplete == true { finishContent(on: channel) }
    }

    private func finishContent(on channel: ChannelState) {
        guard let content = channel.content else { return }
        channel.content = nil
        switch content.kind {
        case .deliver(let consumerTag, let deliveryTag, let redelivered):
            let delivery = AMQPDelivery(
                body: content.body, properties: content.properties, deliveryTag: deliveryTag,
                redelivered: redelivered,
                exchange: content.exchange, routingKey: content.routingKey, consumerTag: consumerTag,
                messageCount: nil,
                channelID: channel.id, epoch: channel.epoch)
            if let consumer = channel.consumers[consumerTag] {
                channel.outstanding.delivered(deliveryTag)
                consumer.continuation.yield(delivery)
            } else {
                // Its consumer was cancelled meanwhile: give the message back at once.
                send(
                    MethodID.basicReject, amqp_basic_reject_t(delivery_tag: deliveryTag, requeue: 1),
                    on: channel.id)
            }
        case .getOK(let deliveryTag, let redelivered, let messageCount):
            let delivery = AMQPDelivery(
                body: content.body, properties: content.properties, deliveryTag: deliveryTag,
                redelivered: redelivered,
                exchange: content.exchange, routingKey: content.routingKey, consumerTag: nil,
                messageCount: messageCount, channelID: channel.id, epoch: channel.epoch)
            channel.outstanding.delivered(deliveryTag)
            guard channel.rpcInFlight, let rpc = channel.rpcs.first else { return }
            channel.rpcs.removeFirst()
            channel.rpcInFlight = false
            rpc.complete(.delivery(delivery))
            sendNextRPC(on: channel)
        case .returned(let replyCode, let replyText):
            let error = AMQPError(
                .returned(replyCode: replyCode, replyText: replyText),
                operation: "basic.publish to '\(content.exchange)' with routing key '\(content.routingKey)'"
            )
            let matched = channel.unconfirmed.markReturned(
                exchange: content.exchange, routingKey: content.routingKey, body: content.body, error: error
            )
            if !matched {
                logger.notice("AMQP message returned", metadata: ["amqp.error": "\(error)"])
            }
        }
    }

    /// Marks a channel closed for good and fails everything waiting on it.
    func closeChannel(
        _ channel: ChannelState, error: AMQPError, consumersFailWith consumerError: AMQPError?
    ) {
        channel.status = .closed(error)
        failPending(channel, error)
        for consumer in channel.consumers.values {
            if let consumerError {
                consumer.continuation.finish(throwing: consumerError)
            } else {
                consumer.continuation.finish()
            }
        }
        channel.consumers.removeAll()
        if channel.id == Self.controlChannel { channels[channel.id] = nil }
    }
}
