extension JSONValue {
    /// How `jsonString(_:)` and `jsonBytes(_:)` lay out the text.
    public enum OutputStyle: Sendable, Hashable {
        /// No insignificant whitespace, object members in insertion order.
        case compact
        /// The stable form Keel hashes (SHA-256) to identify flow versions. Equal values always give
        /// identical bytes:
        /// - no insignificant whitespace;
        /// - object members sorted by their names' UTF-16 code units (as RFC 8785 does);
        /// - strings escape only `"`, `\` and U+0000–U+001F (`\b \f \n \r \t` short forms, else
        ///   `\u00xx` in lower case); everything else is raw UTF-8;
        /// - numbers in their shortest exact decimal form (`JSONNumber.description`): no leading
        ///   zeros, no trailing fractional zeros, `-0` written `0`, integers in plain digits unless
        ///   that needs more than 20 trailing zeros, other numbers plain while the leading digit's
        ///   power of ten is in -7 < e < 21, else `d.ddde±x`; so `1.0`, `1` and `10E-1` are all `1`.
        ///   Unlike RFC 8785, digits are the exact decimal ones, never rounded through a Double.
        case canonical
    }

    /// The JSON text of the value.
    public func jsonString(_ style: OutputStyle = .compact) -> String {
        String(decoding: jsonBytes(style), as: UTF8.self)
    }

    /// The JSON text of the value as UTF-8 bytes.
    public func jsonBytes(_ style: OutputStyle = .compact) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        JSONSerializer.write(self, sortKeys: style == .canonical, into: &output)
        return output
    }
}

/// Writes JSON text; both styles share the string and number rules and differ only in member order.
enum JSONSerializer {
    static func write(_ value: JSONValue, sortKeys: Bool, into output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let flag):
            output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number):
            output.append(contentsOf: number.description.utf8)
        case .string(let string):
            writeString(string, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                write(element, sortKeys: sortKeys, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            var positions = Array(object.indices)
            if sortKeys {
                positions.sort { object.keys[$0].utf16.lexicographicallyPrecedes(object.keys[$1].utf16) }
            }
            for (offset, position) in positions.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                let member = object[position]
                writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(member.value, sortKeys: sortKeys, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), byte])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), byte])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                output.append(contentsOf: "\\u00".utf8)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0xF)])
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
