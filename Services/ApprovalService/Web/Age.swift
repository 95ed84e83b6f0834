import Foundation

/// How long something has been waiting, for people: "just now", "12 min", "3 h 5 min", "2 d 4 h".
enum Age {
    static func text(from start: Date, to now: Date) -> String {
        let minutes = max(0, Int(now.timeIntervalSince(start) / 60))
        switch minutes {
        case 0: return "just now"
        case ..<60: return "\(minutes) min"
        case ..<(24 * 60): return "\(minutes / 60) h \(minutes % 60) min"
        default: return "\(minutes / (24 * 60)) d \(minutes / 60 % 24) h"
        }
    }
}
