/// Why a schema `pattern` was refused, and where: `offset` counts Unicode scalars from the start of
/// the pattern, so the message can point at the character.
struct PatternSyntaxError: Error, Equatable, CustomStringConvertible {
    enum Reason: Error, Equatable {
        case unexpectedEnd(expecting: String)
        case unexpected(Character, expecting: String)
        case nothingToRepeat
        case quantifierRange(minimum: Int, maximum: Int)
        case invalidEscape(Character)
        case backreference
        case classRangeOutOfOrder
        case classRangeOfEscape
        case unknownGroup
        case unknownProperty(String)
        case unsupportedProperty(String)
        case tooLong(limit: Int)
        case tooDeep(limit: Int)
        case tooLarge(limit: Int)
    }

    let reason: Reason
    let offset: Int

    var description: String {
        let place = "at character \(offset + 1)"
        switch reason {
        case .unexpectedEnd(let expecting):
            return "the pattern ends where \(expecting) was expected"
        case .unexpected(let character, let expecting):
            return "unexpected '\(character)' \(place); expected \(expecting)"
        case .nothingToRepeat:
            return "a quantifier \(place) has nothing to repeat"
        case .quantifierRange(let minimum, let maximum):
            return "the quantifier {\(minimum),\(maximum)} \(place) has its bounds out of order"
        case .invalidEscape(let character):
            return "\\\(character) \(place) is not an escape of ECMA-262 patterns with the u flag"
        case .backreference:
            return
                "backreferences (\(place)) are not supported in schema patterns: they cannot be matched in linear time"
        case .classRangeOutOfOrder:
            return "the class range \(place) has its bounds out of order"
        case .classRangeOfEscape:
            return "the class range \(place) has a class escape such as \\d as a bound"
        case .unknownGroup:
            return "unknown group syntax \(place); expected (?:, (?=, (?!, (?<=, (?<! or (?<name>"
        case .unknownProperty(let name):
            return "\\p{\(name)} \(place) names no Unicode property"
        case .unsupportedProperty(let name):
            return "\\p{\(name)} \(place) is not supported in schema patterns: scripts are not available"
        case .tooLong(let limit):
            return "the pattern is longer than \(limit) characters"
        case .tooDeep(let limit):
            return "groups \(place) are nested deeper than \(limit) levels"
        case .tooLarge(let limit):
            return
                "the pattern expands to more than \(limit) matcher instructions (counted repetitions of large groups); write it with fewer or smaller counts"
        }
    }
}
