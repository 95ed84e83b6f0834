import Foundation
import KeelCore

/// Usage for people: `1.9M of 2M tokens, 12.5 machine minutes, 0.42 of 25 USD`.
enum UsageText {
    static func render(_ usage: Usage, limits: UsageLimits?, currency: String?) -> String {
        let parts = UsageDimension.allCases.compactMap { dimension -> String? in
            let limit = limits?[dimension]
            guard usage[dimension] > 0 || limit != nil else { return nil }
            let unit = dimension == .money ? (currency ?? "money") : dimension.unit
            let spent = usage[dimension].formatted(.number.precision(.fractionLength(0...2)))
            guard let limit else { return "\(spent) \(unit)" }
            return "\(spent) of \(limit.formatted(.number.precision(.fractionLength(0...2)))) \(unit)"
        }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}
