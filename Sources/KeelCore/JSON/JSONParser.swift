extension JSONValue {
    /// The default limit on nested arrays and objects, deep enough for any real document and shallow
    /// enough that recursive code over the value cannot exhaust a thread's stack.
    public static let defaultMaximumDepth = 512

    /// Parses RFC 8259 JSON strictly: one value, no comments, no trailing commas, no duplicate keys,
    /// no byte order mark, valid UTF-8, no unpaired surrogate escapes.
    public init(parsing text: String, maximumDepth: Int = JSONValue.defaultMaximumDepth)
        throws(JSONParseError)
    {
        var text = text
        let result = text.withUTF8 { JSONParser.parse($0, maximumDepth: maximumDepth) }
        self = try result.get()
    }

    /// Parses UTF-8 bytes; see `init(parsing:maximumDepth:)` for the rules.
    public init(
        parsing bytes: some Collection<UInt8>, maximumDepth: Int = JSONValue.defaultMaximumDepth
    ) throws(JSONParseError) {
        let result =
            bytes.withContiguousStorageIfAvailable { JSONParser.parse($0, maximumDepth: maximumDepth) }
            ?? Array(bytes).withUnsafeBufferPointer {
                JSONParser.parse($0, maximumDepth: maximumDepth)
            }
        self = try result.get()
    }
}

/// A problem at a byte offset, turned into line and column once parsing has stopped.
struct JSONSyntaxFailure: Error {
    let offset: Int
    let message: String
}

/// Reads the JSON number grammar; shared by the parser and `JSONNumber(jsonText:)`.
struct JSONNumberReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int

    /// Largest exponent magnitude accepted; far beyond any meaningful number, small enough to never
    /// overflow the arithmetic on exponents.
    static let exponentLimit = 999_999_999

    private func isDigit(_ offset: Int) -> Bool {
        offset < bytes.count && bytes[offset] >= UInt8(ascii: "0") && bytes[offset] <= UInt8(ascii: "9")
    }

    mutating func read() throws(JSONSyntaxFailure) -> JSONNumber {
        let start = position
        var negative = false
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let integerStart = position
        guard isDigit(position) else {
            throw JSONSyntaxFailure(offset: position, message: "expected a digit in number")
        }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if isDigit(position) {
                throw JSONSyntaxFailure(
                    offset: start, message: "numbers must not have leading zeros")
            }
        } else {
            while isDigit(position) { position += 1 }
        }
        let integerEnd = position
        var fractionStart = position
        var fractionEnd = position
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard isDigit(position) else {
                throw JSONSyntaxFailure(
                    offset: position, message: "expected a digit after the decimal point")
            }
            fractionStart = position
            while isDigit(position) { position += 1 }
            fractionEnd = position
        }
        var exponent = 0
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            var exponentNegative = false
            if position < bytes.count,
                bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
            {
                exponentNegative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            guard isDigit(position) else {
                throw JSONSyntaxFailure(offset: position, message: "expected a digit in exponent")
            }
            while isDigit(position) {
                exponent = exponent * 10 + Int(bytes[position] - UInt8(ascii: "0"))
                if exponent > Self.exponentLimit {
                    throw JSONSyntaxFailure(offset: start, message: "number exponent is too large")
                }
                position += 1
            }
            if exponentNegative { exponent = -exponent }
        }
        let integerDigits = UnsafeBufferPointer(rebasing: bytes[integerStart..<integerEnd])
        let fractionDigits = UnsafeBufferPointer(rebasing: bytes[fractionStart..<fractionEnd])
        if fractionDigits.isEmpty {
            return JSONNumber(isNegative: negative, rawDigits: integerDigits, exponent: exponent)
        }
        var all = [UInt8]()
        all.reserveCapacity(integerDigits.count + fractionDigits.count)
        all.append(contentsOf: integerDigits)
        all.append(contentsOf: fractionDigits)
        return JSONNumber(
            isNegative: negative, rawDigits: all, exponent: exponent - fractionDigits.count)
    }
}

/// A recursive-descent parser over UTF-8 bytes with a nesting limit.
struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let maximumDepth: Int
    private var position = 0
    private var depth = 0

    private init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) -> Result<
        JSONValue, JSONParseError
    > {
        var parser = JSONParser(bytes: bytes, maximumDepth: maximumDepth)
        do throws(JSONSyntaxFailure) {
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
                throw JSONSyntaxFailure(offset: 0, message: "a byte order mark is not allowed")
            }
            parser.skipWhitespace()
            let value = try parser.parseValue()
            parser.skipWhitespace()
            if parser.position < bytes.count {
                throw parser.failure("expected the end of input after the JSON value")
            }
            return .success(value)
        } catch {
            return .failure(locate(error, in: bytes))
        }
    }

    /// Converts a byte offset into 1-based line and column (columns count Unicode scalars).
    private static func locate(_ failure: JSONSyntaxFailure, in bytes: UnsafeBufferPointer<UInt8>)
        -> JSONParseError
    {
        let offset = min(failure.offset, bytes.count)
        var line = 1
        var column = 1
        for byte in bytes[..<offset] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return JSONParseError(line: line, column: column, offset: offset, message: failure.message)
    }

    private func failure(_ expectation: String) -> JSONSyntaxFailure {
        JSONSyntaxFailure(offset: position, message: "\(expectation), found \(foundDescription)")
    }

    /// The character at the current position as a person would name it.
    private var foundDescription: String {
        guard position < bytes.count else { return "the end of input" }
        let byte = bytes[position]
        switch byte {
        case 0x21...0x7E: return "'\(Character(Unicode.Scalar(byte)))'"
        case UInt8(ascii: " "): return "a space"
        case UInt8(ascii: "\n"): return "a line break"
        case UInt8(ascii: "\t"): return "a tab"
        case UInt8(ascii: "\r"): return "a carriage return"
        default:
            let hex = String(byte, radix: 16, uppercase: true)
            return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
        }
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                position += 1
            default:
                return
            }
        }
    }

    private mutating func expectLiteral(_ literal: StaticString, _ value: JSONValue)
        throws(JSONSyntaxFailure) -> JSONValue
    {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for offset in 0..<count {
            guard position < bytes.count, bytes[position] == start[offset] else {
                throw failure("expected '\(literal)'")
            }
            position += 1
        }
        return value
    }

    private mutating func parseValue() throws(JSONSyntaxFailure) -> JSONValue {
        guard position < bytes.count else { throw failure("expected a JSON value") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try expectLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try expectLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try expectLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            var reader = JSONNumberReader(bytes: bytes, position: position)
            let number = try reader.read()
            position = reader.position
            return .number(number)
        default:
            throw failure("expected a JSON value")
        }
    }

    private mutating func enterContainer() throws(JSONSyntaxFailure) {
        depth += 1
        if depth > maximumDepth {
            throw JSONSyntaxFailure(
                offset: position,
                message: "arrays and objects are nested deeper than the limit of \(maximumDepth)")
        }
    }

    private mutating func parseArray() throws(JSONSyntaxFailure) -> JSONValue {
        try enterContainer()
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard position < bytes.count else { throw failure("expected ',' or ']' in array") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            if bytes[position] == UInt8(ascii: "]") {
                position += 1
                depth -= 1
                return .array(elements)
            }
            throw failure("expected ',' or ']' after an array element")
        }
    }

    private mutating func parseObject() throws(JSONSyntaxFailure) -> JSONValue {
        try enterContainer()
        position += 1
        var object = JSONObject()
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw failure("expected a member name in double quotes")
            }
            let keyOffset = position
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw failure("expected ':' after a member name")
            }
            position += 1
            skipWhitespace()
            let value = try parseValue()
            guard object.insertNew(key, value) else {
                throw JSONSyntaxFailure(
                    offset: keyOffset, message: "duplicate member name \(quoted(key))")
            }
            skipWhitespace()
            guard position < bytes.count else { throw failure("expected ',' or '}' in object") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            if bytes[position] == UInt8(ascii: "}") {
                position += 1
                depth -= 1
                return .object(object)
            }
            throw failure("expected ',' or '}' after an object member")
        }
    }

    private func quoted(_ key: String) -> String {
        var value = JSONValue.string(key).jsonString(.compact)
        if value.count > 60 { value = String(value.prefix(57)) + "...\"" }
        return value
    }

    private mutating func parseString() throws(JSONSyntaxFailure) -> String {
        let start = position
        position += 1
        let contentStart = position
        // Fast path: no escapes, just validate UTF-8.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let content = UnsafeBufferPointer(rebasing: bytes[contentStart..<position])
                position += 1
                return try decodeUTF8(content, stringStart: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw controlCharacterFailure(byte) }
            position += 1
        }
        guard position < bytes.count else {
            throw JSONSyntaxFailure(offset: start, message: "unterminated string")
        }
        var buffer = Array(bytes[contentStart..<position])
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return try buffer.withUnsafeBufferPointer { (content) throws(JSONSyntaxFailure) in
                    try decodeUTF8(content, stringStart: start)
                }
            case UInt8(ascii: "\\"):
                try parseEscape(into: &buffer)
            case 0..<0x20:
                throw controlCharacterFailure(byte)
            default:
                buffer.append(byte)
                position += 1
            }
        }
        throw JSONSyntaxFailure(offset: start, message: "unterminated string")
    }

    private func decodeUTF8(_ content: UnsafeBufferPointer<UInt8>, stringStart: Int)
        throws(JSONSyntaxFailure) -> String
    {
        guard let string = String(validating: content, as: UTF8.self) else {
            throw JSONSyntaxFailure(offset: stringStart, message: "string is not valid UTF-8")
        }
        return string
    }

    private func controlCharacterFailure(_ byte: UInt8) -> JSONSyntaxFailure {
        let hex = String(byte, radix: 16, uppercase: true)
        return JSONSyntaxFailure(
            offset: position,
            message: "control character U+\(String(repeating: "0", count: 4 - hex.count))\(hex) "
                + "must be escaped in a string")
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws(JSONSyntaxFailure) {
        let escapeStart = position
        position += 1
        guard position < bytes.count else {
            throw JSONSyntaxFailure(offset: escapeStart, message: "unterminated escape sequence")
        }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(byte)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            let first = try readHex4(escapeStart: escapeStart)
            var scalarValue = UInt32(first)
            if (0xD800...0xDBFF).contains(first) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else {
                    throw JSONSyntaxFailure(
                        offset: escapeStart,
                        message: "high surrogate escape must be followed by a low surrogate escape")
                }
                position += 2
                let second = try readHex4(escapeStart: escapeStart)
                guard (0xDC00...0xDFFF).contains(second) else {
                    throw JSONSyntaxFailure(
                        offset: escapeStart,
                        message: "high surrogate escape must be followed by a low surrogate escape")
                }
                scalarValue = 0x10000 + ((UInt32(first) - 0xD800) << 10) + (UInt32(second) - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(first) {
                throw JSONSyntaxFailure(
                    offset: escapeStart, message: "low surrogate escape without a high surrogate")
            }
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw JSONSyntaxFailure(offset: escapeStart, message: "invalid Unicode escape")
            }
            UTF8.encode(scalar) { buffer.append($0) }
        default:
            position -= 1
            throw failure("expected an escape character (\", \\, /, b, f, n, r, t or u)")
        }
    }

    private mutating func readHex4(escapeStart: Int) throws(JSONSyntaxFailure) -> UInt16 {
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard position < bytes.count else {
                throw JSONSyntaxFailure(offset: escapeStart, message: "unterminated \\u escape")
            }
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("expected 4 hexadecimal digits after \\u")
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }
}
