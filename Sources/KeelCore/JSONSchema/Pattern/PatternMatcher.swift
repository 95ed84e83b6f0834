/// Runs a `PatternProgram` over a string without backtracking: all threads advance together one
/// scalar at a time (a Pike VM), each instruction at most once per position, so a match costs at most
/// the string's length times the program's size, whatever the pattern. `(a+)+$` against
/// `"aaaa…a!"` takes as long as `a+$`.
///
/// A lookaround is answered by running its own code from the position, anchored, once per position
/// (the answer is kept). Every instruction executed draws on one budget; when it runs out the match
/// stops with `OverBudget` instead of an answer, which bounds even lookarounds nested in repetitions.
struct PatternMatcher {
    /// The budget ran out before the match was decided.
    struct OverBudget: Error {}

    private let program: PatternProgram
    private let text: [Unicode.Scalar]
    private var budget: Int
    private var lookarounds: [Int: Bool] = [:]

    /// Whether `program` matches anywhere in `string` (an unanchored search, as JavaScript's
    /// `RegExp.prototype.test`), within `budget` executed instructions.
    static func search(_ program: PatternProgram, in string: String, budget: Int) throws(OverBudget) -> Bool {
        var matcher = PatternMatcher(program: program, text: Array(string.unicodeScalars), budget: budget)
        return try matcher.run(code: 0, from: 0, anchored: false)
    }

    private init(program: PatternProgram, text: [Unicode.Scalar], budget: Int) {
        self.program = program
        self.text = text
        self.budget = budget
    }

    /// Runs `codes[index]` from `start`; true as soon as any thread reaches `match`. Unanchored, a new
    /// thread starts at every position.
    private mutating func run(code index: Int, from start: Int, anchored: Bool) throws(OverBudget) -> Bool {
        let code = program.codes[index]
        var threads = Threads(count: code.instructions.count)
        var current: [Int] = []
        var next: [Int] = []
        var position = start
        if try add(0, at: position, of: code, into: &current, &threads) { return true }
        while !(anchored && current.isEmpty) {
            let scalar: Unicode.Scalar
            if code.backward {
                guard position > 0 else { return false }
                scalar = text[position - 1]
                position -= 1
            } else {
                guard position < text.count else { return false }
                scalar = text[position]
                position += 1
            }
            threads.generation += 1
            next.removeAll(keepingCapacity: true)
            for pc in current {
                try spend()
                let consumed: Bool
                switch code.instructions[pc] {
                case .scalar(let value): consumed = value == scalar.value
                case .set(let set): consumed = program.sets[set].contains(scalar)
                default: consumed = false
                }
                if consumed, try add(pc + 1, at: position, of: code, into: &next, &threads) { return true }
            }
            if !anchored, try add(0, at: position, of: code, into: &next, &threads) { return true }
            swap(&current, &next)
        }
        return false
    }

    /// The per-run bookkeeping of which instructions already have a thread at this position.
    private struct Threads {
        var marks: [Int]
        var generation = 0
        var stack: [Int] = []

        init(count: Int) {
            marks = Array(repeating: -1, count: count)
        }
    }

    /// Follows `pc`'s jumps, splits and zero-width tests at `position`, adding every consuming
    /// instruction reached to `list`; true when `match` is reached.
    private mutating func add(
        _ pc: Int, at position: Int, of code: PatternProgram.Code, into list: inout [Int],
        _ threads: inout Threads
    ) throws(OverBudget) -> Bool {
        threads.stack.append(pc)
        while let pc = threads.stack.popLast() {
            guard threads.marks[pc] != threads.generation else { continue }
            threads.marks[pc] = threads.generation
            try spend()
            switch code.instructions[pc] {
            case .jump(let target):
                threads.stack.append(target)
            case .split(let first, let second):
                threads.stack.append(second)
                threads.stack.append(first)
            case .assert(let assertion):
                if holds(assertion, at: position) { threads.stack.append(pc + 1) }
            case .look(let look, let negated):
                if try lookaround(look, at: position) != negated { threads.stack.append(pc + 1) }
            case .match:
                threads.stack.removeAll(keepingCapacity: true)
                return true
            case .scalar, .set:
                list.append(pc)
            }
        }
        return false
    }

    private mutating func lookaround(_ code: Int, at position: Int) throws(OverBudget) -> Bool {
        let key = code * (text.count + 1) + position
        if let known = lookarounds[key] { return known }
        let found = try run(code: code, from: position, anchored: true)
        lookarounds[key] = found
        return found
    }

    private func holds(_ assertion: PatternAssertion, at position: Int) -> Bool {
        switch assertion {
        case .start: return position == 0
        case .end: return position == text.count
        case .wordBoundary: return isWord(before: position) != isWord(after: position)
        case .notWordBoundary: return isWord(before: position) == isWord(after: position)
        }
    }

    private func isWord(before position: Int) -> Bool {
        position > 0 && PatternClassEscape.isWord(text[position - 1].value)
    }

    private func isWord(after position: Int) -> Bool {
        position < text.count && PatternClassEscape.isWord(text[position].value)
    }

    private mutating func spend() throws(OverBudget) {
        budget -= 1
        if budget < 0 { throw OverBudget() }
    }
}
