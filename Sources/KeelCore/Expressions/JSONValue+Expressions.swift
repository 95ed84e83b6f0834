extension JSONValue {
    /// The expression language's truthiness: null, false, 0 and '' are false, everything else
    /// (including empty arrays and objects, and the string 'false') is true.
    var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let flag): return flag
        case .number(let number): return !number.isZero
        case .string(let string): return !string.isEmpty
        case .array, .object: return true
        }
    }

    /// How a value reads inside an interpolated string: strings as they are, null as nothing,
    /// numbers and Booleans in canonical JSON, arrays and objects as compact JSON.
    var interpolationText: String {
        switch self {
        case .null: return ""
        case .string(let string): return string
        case .bool, .number, .array, .object: return jsonString(.compact)
        }
    }

    /// The result of `boundedSize`.
    enum BoundedSize {
        case nodes(Int)
        case tooDeep
        case tooLarge
    }

    /// Walks the value without recursion, counting its nodes, and stops as soon as arrays and
    /// objects nest deeper than `maximumDepth` or there are more than `maximumNodes` nodes.
    func boundedSize(maximumDepth: Int, maximumNodes: Int) -> BoundedSize {
        switch self {
        case .null, .bool, .number, .string: return maximumNodes >= 1 ? .nodes(1) : .tooLarge
        case .array, .object: break
        }
        var pending: [(JSONValue, Int)] = [(self, 1)]
        var count = 0
        while let (value, depth) = pending.popLast() {
            count += 1
            guard count <= maximumNodes else { return .tooLarge }
            switch value {
            case .array(let elements):
                guard depth <= maximumDepth else { return .tooDeep }
                guard count + pending.count + elements.count <= maximumNodes else { return .tooLarge }
                for element in elements { pending.append((element, depth + 1)) }
            case .object(let object):
                guard depth <= maximumDepth else { return .tooDeep }
                guard count + pending.count + object.count <= maximumNodes else { return .tooLarge }
                for member in object.values { pending.append((member, depth + 1)) }
            case .null, .bool, .number, .string:
                break
            }
        }
        return .nodes(count)
    }

    /// The type name used in error messages (`number` for every number).
    var expressionTypeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension String.UTF8View {
    /// Whether `needle` occurs in the bytes, by Knuth–Morris–Pratt so the time stays linear whatever
    /// the input.
    func containsBytes(_ needle: String.UTF8View) -> Bool {
        let pattern = Array(needle)
        guard !pattern.isEmpty else { return true }
        var failure = [Int](repeating: 0, count: pattern.count)
        var matched = 0
        for position in 1..<pattern.count {
            while matched > 0 && pattern[position] != pattern[matched] { matched = failure[matched - 1] }
            if pattern[position] == pattern[matched] { matched += 1 }
            failure[position] = matched
        }
        matched = 0
        for byte in self {
            while matched > 0 && byte != pattern[matched] { matched = failure[matched - 1] }
            if byte == pattern[matched] { matched += 1 }
            if matched == pattern.count { return true }
        }
        return false
    }
}
