public import Foundation
public import KeelCore

extension Timestamp {
    /// The reducer has no clock: services stamp the facts they observe with this.
    public static var now: Timestamp { Timestamp(Date()) }

    public init(_ date: Date) {
        self.init(millisecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    public var date: Date { Date(timeIntervalSince1970: Double(millisecondsSinceEpoch) / 1000) }
}
