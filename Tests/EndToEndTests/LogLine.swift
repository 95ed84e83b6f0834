import Foundation

/// One line a service logged, parsed back into its fields: the check that every line is structured.
struct LogLine {
    let text: String
    let fields: [String: String]

    subscript(_ key: String) -> String? { fields[key] }

    /// A JSON line: an object whose values are all strings (as `KeelLogHandler` writes them); nil otherwise.
    init?(json text: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return nil
        }
        var fields: [String: String] = [:]
        for (key, value) in object {
            guard let string = value as? String else { return nil }
            fields[key] = string
        }
        self.text = text
        self.fields = fields
    }

    /// A logfmt line: `key=value` pairs separated by single spaces, a value quoted (with `\"`, `\\`, `\n`
    /// escapes) when it holds a space, `=`, a quote or a newline; nil for anything else.
    init?(logfmt text: String) {
        var fields: [String: String] = [:]
        var rest = Substring(text)
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "="), !rest[..<equals].contains(" ") else { return nil }
            let key = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var closed = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if character == "\"" {
                        closed = true
                        break
                    }
                    if character == "\\" {
                        guard let escaped = rest.first else { return nil }
                        rest = rest.dropFirst()
                        switch escaped {
                        case "n": value.append("\n")
                        case "\"", "\\": value.append(escaped)
                        default: return nil
                        }
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { return nil }
            } else {
                let end = rest.firstIndex(of: " ") ?? rest.endIndex
                value = String(rest[..<end])
                guard !value.contains("\"") else { return nil }
                rest = rest[end...]
            }
            guard fields[key] == nil else { return nil }
            fields[key] = value
            if rest.first == " " {
                rest = rest.dropFirst()
                guard !rest.isEmpty else { return nil }
            } else if !rest.isEmpty {
                return nil
            }
        }
        guard !fields.isEmpty else { return nil }
        self.text = text
        self.fields = fields
    }
}
