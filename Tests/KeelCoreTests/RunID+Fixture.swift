import Foundation
import KeelCore

extension RunID {
    /// A fixed, valid run id for tests: `0193a1b2-0000-7000-8000-` and `n` in twelve digits.
    static func fixture(_ n: Int) -> RunID {
        RunID(String(format: "0193a1b2-0000-7000-8000-%012d", n))!
    }
}
