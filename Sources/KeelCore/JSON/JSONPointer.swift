/// An RFC 6901 JSON Pointer (`/tasks/0/name`): how errors say where in a document something is.
public struct JSONPointer: Sendable, Hashable {
    /// The unescaped reference tokens; empty for the whole document.
    public var tokens: [String]

    /// The pointer made of `tokens` (unescaped).
    public init(tokens: [String] = []) {
        self.tokens = tokens
    }

    /// Parses the pointer text `""` or `/token/token` (with `~0` for `~` and `~1` for `/`).
    public init(parsing text: String) throws(JSONPointerError) {
        guard !text.isEmpty else {
            self.tokens = []
            return
        }
        guard text.hasPrefix("/") else { throw JSONPointerError(pointer: text, reason: .missingSlash) }
        var tokens: [String] = []
        for token in text.utf8.dropFirst().split(
            separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        {
            guard let unescaped = Self.unescape(String(decoding: token, as: UTF8.self)) else {
                throw JSONPointerError(pointer: text, reason: .invalidEscape)
            }
            tokens.append(unescaped)
        }
        self.tokens = tokens
    }

    /// The pointer to the whole document.
    public static let root = JSONPointer()

    /// True for the pointer to the whole document.
    public var isRoot: Bool { tokens.isEmpty }

    /// This pointer extended by one member name.
    public func appending(_ token: String) -> JSONPointer {
        JSONPointer(tokens: tokens + [token])
    }

    /// This pointer extended by one array index.
    public func appending(index: Int) -> JSONPointer {
        JSONPointer(tokens: tokens + [String(index)])
    }

    /// `token` escaped for pointer text: `~` → `~0`, `/` → `~1`.
    public static func escape(_ token: String) -> String {
        guard token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else {
            return token
        }
        var escaped = ""
        for scalar in token.unicodeScalars {
            switch scalar {
            case "~": escaped += "~0"
            case "/": escaped += "~1"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// The token an escaped pointer segment stands for; nil when `~` is not followed by `0` or `1`.
    public static func unescape(_ segment: String) -> String? {
        guard segment.utf8.contains(UInt8(ascii: "~")) else { return segment }
        var unescaped = ""
        var pendingTilde = false
        for scalar in segment.unicodeScalars {
            if pendingTilde {
                switch scalar {
                case "0": unescaped += "~"
                case "1": unescaped += "/"
                default: return nil
                }
                pendingTilde = false
            } else if scalar == "~" {
                pendingTilde = true
            } else {
                unescaped.unicodeScalars.append(scalar)
            }
        }
        return pendingTilde ? nil : unescaped
    }
}

extension JSONPointer: CustomStringConvertible {
    /// The pointer text, e.g. `/properties/task/maxLength`; empty for the whole document.
    public var description: String {
        tokens.reduce(into: "") { text, token in
            text += "/"
            text += Self.escape(token)
        }
    }
}

/// A pointer text that is not RFC 6901 syntax.
public struct JSONPointerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong with the text.
    public enum Reason: Sendable, Hashable {
        /// A non-empty pointer must start with `/`.
        case missingSlash
        /// `~` must be followed by `0` or `1`.
        case invalidEscape
    }

    /// The rejected pointer text.
    public let pointer: String
    public let reason: Reason

    public init(pointer: String, reason: Reason) {
        self.pointer = pointer
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .missingSlash: return "JSON pointer \"\(pointer)\" must be empty or start with '/'"
        case .invalidEscape: return "JSON pointer \"\(pointer)\" has '~' not followed by '0' or '1'"
        }
    }
}

extension JSONValue {
    /// The value `pointer` refers to, nil when it leads nowhere. Array tokens must be canonical
    /// indexes (`0`, `17`, no leading zeros); `-` (past the end) never resolves.
    public subscript(pointer pointer: JSONPointer) -> JSONValue? {
        var current = self
        for token in pointer.tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let elements):
                guard let index = JSONPointer.arrayIndex(token), index < elements.count else {
                    return nil
                }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }
}

extension JSONPointer {
    /// The array index a token denotes: decimal digits without leading zeros.
    static func arrayIndex(_ token: String) -> Int? {
        let utf8 = token.utf8
        guard let first = utf8.first, utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            first != UInt8(ascii: "0") || utf8.count == 1
        else { return nil }
        return Int(token)
    }
}
