/// A parsed pattern compiled for `PatternMatcher`: one instruction list for the pattern and one for
/// each lookaround in it, in the style of Thompson's construction (Russ Cox, "Regular Expression
/// Matching: the Virtual Machine Approach"). Counted repetitions are expanded, so the program's size
/// is bounded instead of the pattern's count values.
struct PatternProgram: Sendable {
    enum Instruction: Sendable, Equatable {
        /// Consume this scalar value.
        case scalar(UInt32)
        /// Consume a scalar of `sets[index]`.
        case set(Int)
        /// Continue at both targets.
        case split(Int, Int)
        case jump(Int)
        /// Continue when the position passes the test.
        case assert(PatternAssertion)
        /// Continue when `codes[code]` matches at the position (does not, when negated).
        case look(code: Int, negated: Bool)
        case match
    }

    /// One instruction list. A lookbehind's runs backward: its sequences are compiled in reverse and
    /// it consumes the scalar before the position.
    struct Code: Sendable {
        var instructions: [Instruction]
        var backward: Bool
    }

    /// Most instructions across all codes; a pattern that expands further is refused.
    static let maximumInstructions = 50_000

    /// `codes[0]` is the pattern itself.
    let codes: [Code]
    let sets: [PatternCharacterSet]

    init(_ node: PatternNode) throws(PatternSyntaxError) {
        var compiler = Compiler()
        _ = try compiler.compile(node, backward: false)
        codes = compiler.codes
        sets = compiler.sets
    }

    private struct Compiler {
        var codes: [Code] = []
        var sets: [PatternCharacterSet] = []
        var total = 0

        /// Compiles `node` as a code of its own; returns its index.
        mutating func compile(_ node: PatternNode, backward: Bool) throws(PatternSyntaxError) -> Int {
            let index = codes.count
            codes.append(Code(instructions: [], backward: backward))
            var instructions: [Instruction] = []
            try emit(node, into: &instructions, backward: backward)
            try append(.match, to: &instructions)
            codes[index].instructions = instructions
            return index
        }

        private mutating func append(_ instruction: Instruction, to out: inout [Instruction])
            throws(PatternSyntaxError)
        {
            total += 1
            guard total <= PatternProgram.maximumInstructions else {
                throw PatternSyntaxError(
                    reason: .tooLarge(limit: PatternProgram.maximumInstructions), offset: 0)
            }
            out.append(instruction)
        }

        private mutating func emit(_ node: PatternNode, into out: inout [Instruction], backward: Bool)
            throws(PatternSyntaxError)
        {
            switch node {
            case .empty:
                break
            case .scalar(let value):
                try append(.scalar(value), to: &out)
            case .set(let set):
                sets.append(set)
                try append(.set(sets.count - 1), to: &out)
            case .assertion(let assertion):
                try append(.assert(assertion), to: &out)
            case .look(let body, let behind, let negated):
                let code = try compile(body, backward: behind)
                try append(.look(code: code, negated: negated), to: &out)
            case .sequence(let nodes):
                for node in backward ? nodes.reversed() : nodes {
                    try emit(node, into: &out, backward: backward)
                }
            case .alternation(let alternatives):
                // split(first, next); first…; jump(end); next: split(second, next'); …; last…; end:
                var jumps: [Int] = []
                for alternative in alternatives.dropLast() {
                    let split = out.count
                    try append(.split(split + 1, -1), to: &out)
                    try emit(alternative, into: &out, backward: backward)
                    jumps.append(out.count)
                    try append(.jump(-1), to: &out)
                    out[split] = .split(split + 1, out.count)
                }
                if let last = alternatives.last { try emit(last, into: &out, backward: backward) }
                for jump in jumps { out[jump] = .jump(out.count) }
            case .repetition(let body, let minimum, let maximum):
                // Repeating what matches only the empty string adds nothing (and `(?:){1000000000}`
                // must not loop a billion times emitting nothing).
                guard !Self.matchesOnlyEmpty(body), maximum != 0 else { return }
                for _ in 0..<minimum { try emit(body, into: &out, backward: backward) }
                if let maximum {
                    // x{0,3} is (?:x(?:x(?:x)?)?)?: each optional copy may skip to the end.
                    var splits: [Int] = []
                    for _ in minimum..<maximum {
                        splits.append(out.count)
                        try append(.split(out.count + 1, -1), to: &out)
                        try emit(body, into: &out, backward: backward)
                    }
                    for split in splits { out[split] = .split(split + 1, out.count) }
                } else {
                    let loop = out.count
                    try append(.split(loop + 1, -1), to: &out)
                    try emit(body, into: &out, backward: backward)
                    try append(.jump(loop), to: &out)
                    out[loop] = .split(loop + 1, out.count)
                }
            }
        }

        private static func matchesOnlyEmpty(_ node: PatternNode) -> Bool {
            switch node {
            case .empty: return true
            case .sequence(let nodes): return nodes.allSatisfy(matchesOnlyEmpty)
            case .alternation(let nodes): return nodes.allSatisfy(matchesOnlyEmpty)
            case .repetition(let body, _, let maximum): return maximum == 0 || matchesOnlyEmpty(body)
            case .scalar, .set, .assertion, .look: return false
            }
        }
    }
}
