/// Parses the ECMA-262 regular expression syntax with the `u` flag, which JSON Schema names for
/// `pattern` and `patternProperties`, into a `PatternNode`. Recursive descent over Unicode scalars;
/// group nesting is bounded so the recursion is too.
///
/// With the `u` flag ECMA-262 is strict, and so is this parser: a lone `{`, `}` or `]`, an escape that
/// means nothing (`\q`), and a quantified assertion are errors, not literals. Backreferences are
/// refused: they need a backtracking matcher, which is what this one exists to avoid.
struct PatternParser {
    /// Longest pattern accepted, in Unicode scalars.
    static let maximumLength = 10_000
    /// Deepest group nesting accepted.
    static let maximumDepth = 100

    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var depth = 0

    private init(_ source: String) {
        scalars = Array(source.unicodeScalars)
    }

    static func parse(_ source: String) throws(PatternSyntaxError) -> PatternNode {
        var parser = PatternParser(source)
        guard parser.scalars.count <= maximumLength else {
            throw PatternSyntaxError(reason: .tooLong(limit: maximumLength), offset: 0)
        }
        let node = try parser.disjunction()
        if let scalar = parser.peek {
            // Only a `)` without its `(` stops a top-level disjunction early.
            throw parser.error(.unexpected(Character(scalar), expecting: "the end of the pattern"))
        }
        return node
    }

    // MARK: - Structure

    private mutating func disjunction() throws(PatternSyntaxError) -> PatternNode {
        var alternatives = [try alternative()]
        while peek == "|" {
            position += 1
            alternatives.append(try alternative())
        }
        return alternatives.count == 1 ? alternatives[0] : .alternation(alternatives)
    }

    private mutating func alternative() throws(PatternSyntaxError) -> PatternNode {
        var terms: [PatternNode] = []
        while let scalar = peek, scalar != "|", scalar != ")" {
            terms.append(try term())
        }
        switch terms.count {
        case 0: return .empty
        case 1: return terms[0]
        default: return .sequence(terms)
        }
    }

    private mutating func term() throws(PatternSyntaxError) -> PatternNode {
        let start = position
        let (atom, quantifiable) = try self.atom()
        guard let (minimum, maximum) = try quantifier() else { return atom }
        guard quantifiable else { throw PatternSyntaxError(reason: .nothingToRepeat, offset: start) }
        return .repetition(atom, minimum: minimum, maximum: maximum)
    }

    /// The next atom, and whether a quantifier may follow it (assertions may not, with the `u` flag).
    private mutating func atom() throws(PatternSyntaxError) -> (PatternNode, quantifiable: Bool) {
        guard let scalar = next() else { throw error(.unexpectedEnd(expecting: "an atom")) }
        switch scalar {
        case "^": return (.assertion(.start), false)
        case "$": return (.assertion(.end), false)
        case ".": return (.set(.dot), true)
        case "(": return try group()
        case "[": return (.set(try characterClass()), true)
        case "\\": return try atomEscape()
        case "*", "+", "?": throw PatternSyntaxError(reason: .nothingToRepeat, offset: position - 1)
        case "{":
            position -= 1
            if (try? quantifier()) != nil {
                throw PatternSyntaxError(reason: .nothingToRepeat, offset: position)
            }
            throw error(.unexpected("{", expecting: "an atom (write \\{ for a literal brace)"))
        case "}", "]":
            position -= 1
            throw error(
                .unexpected(Character(scalar), expecting: "an atom (escape it with \\ for a literal)"))
        default: return (.scalar(scalar.value), true)
        }
    }

    private mutating func group() throws(PatternSyntaxError) -> (PatternNode, quantifiable: Bool) {
        let open = position - 1
        guard depth < Self.maximumDepth else {
            throw PatternSyntaxError(reason: .tooDeep(limit: Self.maximumDepth), offset: open)
        }
        var look: (behind: Bool, negated: Bool)?
        if peek == "?" {
            position += 1
            switch next() {
            case ":": break
            case "=": look = (false, false)
            case "!": look = (false, true)
            case "<":
                switch peek {
                case "=": position += 1; look = (true, false)
                case "!": position += 1; look = (true, true)
                default: try groupName()
                }
            default: throw PatternSyntaxError(reason: .unknownGroup, offset: open)
            }
        }
        depth += 1
        let body = try disjunction()
        depth -= 1
        guard next() == ")" else {
            throw PatternSyntaxError(reason: .unexpectedEnd(expecting: "')'"), offset: open)
        }
        if let look { return (.look(body, behind: look.behind, negated: look.negated), false) }
        return (body, true)
    }

    /// Skips `name>` of a named group; the name is not kept (nothing refers back to it).
    private mutating func groupName() throws(PatternSyntaxError) {
        let start = position
        while let scalar = next() {
            if scalar == ">" {
                guard position - 1 > start else { throw error(.unexpected(">", expecting: "a group name")) }
                return
            }
            guard scalar.properties.isIDContinue || scalar == "$" else {
                position -= 1
                throw error(.unexpected(Character(scalar), expecting: "a group name and '>'"))
            }
        }
        throw error(.unexpectedEnd(expecting: "'>' after a group name"))
    }

    /// `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each optionally followed by `?`; nil when none follows.
    private mutating func quantifier() throws(PatternSyntaxError) -> (Int, Int?)? {
        let start = position
        let bounds: (Int, Int?)
        switch peek {
        case "*": position += 1; bounds = (0, nil)
        case "+": position += 1; bounds = (1, nil)
        case "?": position += 1; bounds = (0, 1)
        case "{":
            position += 1
            guard let minimum = decimal() else { position = start; return nil }
            var maximum: Int? = minimum
            if peek == "," {
                position += 1
                maximum = decimal()
            }
            guard peek == "}" else { position = start; return nil }
            position += 1
            if let maximum, maximum < minimum {
                throw PatternSyntaxError(
                    reason: .quantifierRange(minimum: minimum, maximum: maximum), offset: start)
            }
            bounds = (minimum, maximum)
        default:
            return nil
        }
        if peek == "?" { position += 1 }
        return bounds
    }

    /// A run of decimal digits, saturating far above any count the program size allows.
    private mutating func decimal() -> Int? {
        var value: Int?
        while let scalar = peek, ("0"..."9").contains(scalar) {
            value = min((value ?? 0) * 10 + Int(scalar.value - 0x30), 1_000_000_000)
            position += 1
        }
        return value
    }

    // MARK: - Escapes

    private mutating func atomEscape() throws(PatternSyntaxError) -> (PatternNode, quantifiable: Bool) {
        let start = position - 1
        guard let scalar = peek else { throw error(.unexpectedEnd(expecting: "an escape after '\\'")) }
        switch scalar {
        case "b": position += 1; return (.assertion(.wordBoundary), false)
        case "B": position += 1; return (.assertion(.notWordBoundary), false)
        case "1"..."9", "k": throw PatternSyntaxError(reason: .backreference, offset: start)
        default: break
        }
        if let escape = try classEscape() { return (.set(escape), true) }
        return (.scalar(try characterEscape()), true)
    }

    /// `\d \D \w \W \s \S \p{…} \P{…}` after the backslash, or nil (nothing consumed) for another escape.
    private mutating func classEscape() throws(PatternSyntaxError) -> PatternCharacterSet? {
        guard let scalar = peek else { return nil }
        let escape: PatternClassEscape
        switch scalar {
        case "d", "D": escape = .digit
        case "w", "W": escape = .word
        case "s", "S": escape = .space
        case "p", "P":
            position += 1
            let open = position
            guard next() == "{" else {
                throw error(.unexpected(Character(scalar), expecting: "'{' after \\p"))
            }
            var name = ""
            var closed = false
            while let character = next() {
                if character == "}" {
                    closed = true
                    break
                }
                name.unicodeScalars.append(character)
            }
            guard closed else { throw error(.unexpectedEnd(expecting: "'}' after \\p{")) }
            switch PatternUnicodeProperty.named(name) {
            case .success(let property):
                return .escape(.property(property), negated: scalar == "P")
            case .failure(let reason):
                throw PatternSyntaxError(reason: reason, offset: open - 2)
            }
        default: return nil
        }
        position += 1
        return .escape(escape, negated: scalar.properties.isUppercase)
    }

    /// A CharacterEscape after the backslash, as a scalar value.
    private mutating func characterEscape() throws(PatternSyntaxError) -> UInt32 {
        guard let scalar = next() else { throw error(.unexpectedEnd(expecting: "an escape after '\\'")) }
        switch scalar {
        case "t": return 0x09
        case "n": return 0x0A
        case "v": return 0x0B
        case "f": return 0x0C
        case "r": return 0x0D
        case "0":
            if let following = peek, ("0"..."9").contains(following) {
                throw PatternSyntaxError(reason: .backreference, offset: position - 2)
            }
            return 0
        case "c":
            guard let letter = peek, letter.isASCII, letter.properties.isAlphabetic else {
                throw PatternSyntaxError(reason: .invalidEscape("c"), offset: position - 2)
            }
            position += 1
            return letter.value % 32
        case "x":
            guard let value = hexadecimal(count: 2) else {
                throw PatternSyntaxError(reason: .invalidEscape("x"), offset: position - 2)
            }
            return value
        case "u":
            return try unicodeEscape()
        case "^", "$", "\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "/":
            return scalar.value
        default:
            throw PatternSyntaxError(reason: .invalidEscape(Character(scalar)), offset: position - 2)
        }
    }

    /// `\uHHHH` (a surrogate pair written as two such escapes is one scalar) or `\u{H…}`.
    private mutating func unicodeEscape() throws(PatternSyntaxError) -> UInt32 {
        let start = position - 2
        if peek == "{" {
            position += 1
            var value: UInt32 = 0
            var digits = 0
            while let scalar = peek, let digit = Self.hexDigit(scalar) {
                value = value &* 16 &+ digit
                digits += 1
                position += 1
                guard value <= 0x10FFFF else {
                    throw PatternSyntaxError(reason: .invalidEscape("u"), offset: start)
                }
            }
            guard digits > 0, next() == "}" else {
                throw PatternSyntaxError(reason: .invalidEscape("u"), offset: start)
            }
            return value
        }
        guard let high = hexadecimal(count: 4) else {
            throw PatternSyntaxError(reason: .invalidEscape("u"), offset: start)
        }
        if (0xD800...0xDBFF).contains(high), position + 1 < scalars.count, scalars[position] == "\\",
            scalars[position + 1] == "u"
        {
            let resume = position
            position += 2
            if let low = hexadecimal(count: 4), (0xDC00...0xDFFF).contains(low) {
                return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            position = resume
        }
        return high
    }

    private mutating func hexadecimal(count: Int) -> UInt32? {
        guard position + count <= scalars.count else { return nil }
        var value: UInt32 = 0
        for offset in 0..<count {
            guard let digit = Self.hexDigit(scalars[position + offset]) else { return nil }
            value = value * 16 + digit
        }
        position += count
        return value
    }

    private static func hexDigit(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar {
        case "0"..."9": return scalar.value - 0x30
        case "a"..."f": return scalar.value - 0x61 + 10
        case "A"..."F": return scalar.value - 0x41 + 10
        default: return nil
        }
    }

    // MARK: - Classes

    /// `[…]` after the `[`.
    private mutating func characterClass() throws(PatternSyntaxError) -> PatternCharacterSet {
        let open = position - 1
        var set = PatternCharacterSet(items: [], negated: false)
        if peek == "^" {
            position += 1
            set.negated = true
        }
        while true {
            guard let scalar = peek else {
                throw PatternSyntaxError(reason: .unexpectedEnd(expecting: "']'"), offset: open)
            }
            if scalar == "]" {
                position += 1
                return set
            }
            let lowerStart = position
            let lower = try classAtom()
            guard peek == "-", position + 1 < scalars.count, scalars[position + 1] != "]" else {
                set.items.append(lower)
                continue
            }
            position += 1
            let upper = try classAtom()
            guard case .range(let low, _) = lower, case .range(let high, _) = upper else {
                throw PatternSyntaxError(reason: .classRangeOfEscape, offset: lowerStart)
            }
            guard low <= high else {
                throw PatternSyntaxError(reason: .classRangeOutOfOrder, offset: lowerStart)
            }
            set.items.append(.range(low, high))
        }
    }

    /// One member of a class: a scalar (as a one-value range) or a class escape.
    private mutating func classAtom() throws(PatternSyntaxError) -> PatternCharacterSet.Item {
        guard let scalar = next() else { throw error(.unexpectedEnd(expecting: "']'")) }
        guard scalar == "\\" else { return .range(scalar.value, scalar.value) }
        switch peek {
        case "b"?:
            position += 1
            return .range(0x08, 0x08)
        case "-"?:
            position += 1
            return .range(0x2D, 0x2D)
        case let digit? where ("1"..."9").contains(digit):
            throw PatternSyntaxError(reason: .backreference, offset: position - 1)
        default:
            break
        }
        if let escape = try classEscape(), let item = escape.items.first { return item }
        let value = try characterEscape()
        return .range(value, value)
    }

    // MARK: - Reading

    private var peek: Unicode.Scalar? {
        position < scalars.count ? scalars[position] : nil
    }

    private mutating func next() -> Unicode.Scalar? {
        defer { position += 1 }
        return peek
    }

    private func error(_ reason: PatternSyntaxError.Reason) -> PatternSyntaxError {
        PatternSyntaxError(reason: reason, offset: min(position, scalars.count))
    }
}
