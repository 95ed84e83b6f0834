import Foundation
import KeelCore
import Synchronization

/// The states of the runs this process advanced last, each with the version of the `runs` row that
/// stored it (the row's `xmin`: the id of the transaction that wrote it).
///
/// When the locked row still has that version, no one else has advanced the run since, and its state
/// need not be read and decoded again: an executor that claims a step and then records its result
/// decodes the snapshot once, not twice. A transaction that rolled back never becomes a row's version,
/// so a state from it can never be mistaken for the committed one.
final class RunStateCache: Sendable {
    private struct Entry {
        var rowVersion: String
        var state: RunState
    }

    private let entries = Mutex<[RunID: Entry]>([:])
    /// Beyond this many runs the cache starts over.
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The cached row version of `run`, to compare with the locked row's.
    func rowVersion(of run: RunID) -> String? {
        entries.withLock { $0[run]?.rowVersion }
    }

    /// The cached state, if it is the one the row at `rowVersion` stores.
    func state(of run: RunID, rowVersion: String) -> RunState? {
        entries.withLock { entries in
            guard let entry = entries[run], entry.rowVersion == rowVersion else { return nil }
            return entry.state
        }
    }

    func store(_ state: RunState, of run: RunID, rowVersion: String) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[run] = Entry(rowVersion: rowVersion, state: state)
        }
    }
}
