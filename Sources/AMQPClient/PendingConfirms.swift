/// Publishes on a confirm-mode channel that the broker has not acked or nacked yet, in sequence order.
///
/// Sequence numbers are contiguous from the first entry, so a tag maps to an index directly; settled
/// entries are dropped from the front. Used only on the I/O thread.
struct PendingConfirms {
    /// What identifies a mandatory publish when the broker returns it (returns carry no sequence number).
    struct Mandatory {
        let exchange: String
        let routingKey: String
        let body: [UInt8]
    }

    private struct Entry {
        let sequence: UInt64
        let waiter: Waiter<Void>
        let mandatory: Mandatory?
        var returned: AMQPError?
        var settled = false
    }

    private var entries: [Entry] = []
    private var head = 0

    var isEmpty: Bool { head == entries.count }

    mutating func append(sequence: UInt64, waiter: Waiter<Void>, mandatory: Mandatory?) {
        entries.append(Entry(sequence: sequence, waiter: waiter, mandatory: mandatory))
    }

    /// Settles `tag` (and every earlier publish when `multiple`): success for an ack, `.nacked` for a nack,
    /// `.returned` for an ack of a message the broker returned as unroutable.
    mutating func settle(tag: UInt64, multiple: Bool, nacked: Bool) {
        guard head < entries.count else { return }
        let first = entries[head].sequence
        guard tag >= first else { return }
        let last = min(head + Int(tag - first), entries.count - 1)
        let range = multiple ? head...last : last...last
        for index in range where !entries[index].settled {
            entries[index].settled = true
            let entry = entries[index]
            if nacked {
                entry.waiter.resume(throwing: AMQPError(.nacked, operation: "basic.publish"))
            } else if let returned = entry.returned {
                entry.waiter.resume(throwing: returned)
            } else {
                entry.waiter.resume(returning: ())
            }
        }
        while head < entries.count, entries[head].settled { head += 1 }
        compact()
    }

    /// Marks the earliest unsettled mandatory publish matching a basic.return, so its ack fails with
    /// `.returned`. The broker returns messages in publish order, before acking them.
    mutating func markReturned(exchange: String, routingKey: String, body: [UInt8], error: AMQPError)
        -> Bool
    {
        for index in head..<entries.count {
            guard !entries[index].settled, entries[index].returned == nil,
                let mandatory = entries[index].mandatory,
                mandatory.exchange == exchange, mandatory.routingKey == routingKey, mandatory.body == body
            else { continue }
            entries[index].returned = error
            return true
        }
        return false
    }

    /// Fails every unsettled publish, e.g. with `.connectionClosed` when the connection is lost.
    mutating func failAll(_ error: AMQPError) {
        for index in head..<entries.count where !entries[index].settled {
            entries[index].waiter.resume(throwing: error)
        }
        entries.removeAll(keepingCapacity: true)
        head = 0
    }

    private mutating func compact() {
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 4096, head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
