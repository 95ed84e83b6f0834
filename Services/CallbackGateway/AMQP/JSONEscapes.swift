/// Undoes JSON string escapes in text that was not parsed as JSON, so a redactor can see what a
/// reader decoding it would see.
enum JSONEscapes {
    /// `text` with `\uXXXX` (surrogate pairs joined), `\/`, `\\`, `\"` and `\b\f\n\r\t` decoded, one
    /// level deep; anything else, including malformed escapes, is kept as written.
    static func undone(in text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            guard scalar == "\\", index + 1 < scalars.count else {
                output.append(scalar)
                index += 1
                continue
            }
            let next = scalars[index + 1]
            let simple: Unicode.Scalar? =
                switch next {
                case "/", "\\", "\"": next
                case "b": "\u{8}"
                case "f": "\u{C}"
                case "n": "\n"
                case "r": "\r"
                case "t": "\t"
                default: nil
                }
            if let simple {
                output.append(simple)
                index += 2
            } else if next == "u", let unit = hexUnit(scalars, at: index + 2) {
                index += 6
                if (0xD800...0xDBFF).contains(unit), index + 1 < scalars.count, scalars[index] == "\\",
                    scalars[index + 1] == "u", let low = hexUnit(scalars, at: index + 2),
                    (0xDC00...0xDFFF).contains(low)
                {
                    index += 6
                    output.append(
                        Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}")
                } else {
                    output.append(Unicode.Scalar(unit) ?? "\u{FFFD}")
                }
            } else {
                output.append(scalar)
                index += 1
            }
        }
        return String(output)
    }

    /// The four hex digits at `start` as a number, or nil.
    private static func hexUnit(_ scalars: [Unicode.Scalar], at start: Int) -> UInt32? {
        guard start + 4 <= scalars.count else { return nil }
        var value: UInt32 = 0
        for scalar in scalars[start..<(start + 4)] {
            guard let digit = Int(String(scalar), radix: 16) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
