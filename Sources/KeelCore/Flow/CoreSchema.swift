/// YAML 1.2 core-schema resolution of plain scalars: `yes`, `no`, `on` and `off` stay strings.
enum CoreSchema {
    static func resolve(plain text: String) -> SourceNode.Scalar {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
            ".nan", ".NaN", ".NAN":
            return .nonFiniteNumber(text)
        default: break
        }
        guard let first = text.utf8.first,
            first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
                || first == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        else { return .string(text) }
        if text.hasPrefix("0x"), let number = radixNumber(text.dropFirst(2), radix: 16) {
            return .number(number)
        }
        if text.hasPrefix("0o"), let number = radixNumber(text.dropFirst(2), radix: 8) {
            return .number(number)
        }
        if isDecimal(text) {
            var json = text.hasPrefix("+") ? String(text.dropFirst()) : text
            // JSON wants digits around the point: `.5` → `0.5`, `5.` → `5.0`, `-.5` → `-0.5`.
            if json.hasPrefix(".") { json = "0" + json }
            if json.hasPrefix("-.") { json = "-0" + json.dropFirst() }
            json = json.replacingDotBeforeExponentOrEnd()
            json = json.strippingLeadingZeros()
            if let number = JSONNumber(jsonText: json) { return .number(number) }
        }
        return .string(text)
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    private static func isDecimal(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            bytes = bytes.dropFirst()
        }
        let integerDigits = bytes.prefix(while: isDigit).count
        bytes = bytes.dropFirst(integerDigits)
        var fractionDigits = 0
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            fractionDigits = bytes.prefix(while: isDigit).count
            bytes = bytes.dropFirst(fractionDigits)
            if integerDigits == 0 && fractionDigits == 0 { return false }
        } else if integerDigits == 0 {
            return false
        }
        if let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
                bytes = bytes.dropFirst()
            }
            let exponentDigits = bytes.prefix(while: isDigit).count
            if exponentDigits == 0 { return false }
            bytes = bytes.dropFirst(exponentDigits)
        }
        return bytes.isEmpty
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func radixNumber(_ digits: Substring, radix: Int) -> JSONNumber? {
        guard !digits.isEmpty, digits.count <= 16, let value = UInt64(digits, radix: radix) else {
            return nil
        }
        return JSONNumber(value)
    }
}

extension String {
    /// `5.` → `5.0` and `5.e3` → `5.0e3`, the forms JSON accepts.
    fileprivate func replacingDotBeforeExponentOrEnd() -> String {
        var scalars = Array(unicodeScalars)
        var index = 0
        while index < scalars.count {
            if scalars[index] == "."
                && (index + 1 == scalars.count || scalars[index + 1] == "e" || scalars[index + 1] == "E")
            {
                scalars.insert("0", at: index + 1)
            }
            index += 1
        }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars)
        return result
    }

    /// `007` → `7`, `-00.5` → `-0.5`: YAML allows leading zeros, JSON does not.
    fileprivate func strippingLeadingZeros() -> String {
        let negative = hasPrefix("-")
        var body = Substring(negative ? String(dropFirst()) : self)
        while body.count > 1, body.first == "0", let next = body.dropFirst().first, next.isNumber {
            body = body.dropFirst()
        }
        return (negative ? "-" : "") + body
    }
}
