/// `${{ params.NAME }}` placeholders in a flow template's strings, and their substitution.
///
/// Placeholders are replaced when a flow is created from the template, not at run time, so they are
/// found by their exact shape: a `${{ }}` whose whole body is `params.NAME`. Every other `${{ }}`
/// (and every `$${{` escape) is copied through untouched for the expression engine. Substituted
/// values are data: a `${{` inside a value is escaped, so a parameter can never inject an expression.
enum TemplatePlaceholder {
    enum Piece: Equatable {
        /// Text copied as written, including `${{ }}` expressions that are not placeholders.
        case text(String)
        case parameter(String)
    }

    /// Splits a string into literal text and placeholders.
    static func pieces(of string: String) -> [Piece] {
        let scalars = Array(string.unicodeScalars)
        var pieces: [Piece] = []
        var text = String.UnicodeScalarView()
        var position = 0
        while position < scalars.count {
            if scalars.hasPrefix("$${{", at: position) {
                text.append(contentsOf: scalars[position..<position + 4])
                position += 4
            } else if scalars.hasPrefix("${{", at: position),
                let end = ExpressionTemplate.closingBraces(in: scalars, from: position + 3)
            {
                let body = String(String.UnicodeScalarView(scalars[(position + 3)..<end]))
                if let name = parameterName(inBody: body) {
                    if !text.isEmpty { pieces.append(.text(String(text))) }
                    text = String.UnicodeScalarView()
                    pieces.append(.parameter(name))
                } else {
                    text.append(contentsOf: scalars[position..<end + 2])
                }
                position = end + 2
            } else {
                text.append(scalars[position])
                position += 1
            }
        }
        if !text.isEmpty { pieces.append(.text(String(text))) }
        return pieces
    }

    /// `NAME` when the expression body is exactly `params.NAME` (spaces around allowed).
    private static func parameterName(inBody body: String) -> String? {
        let trimmed = body.trimmingSpaces()
        guard trimmed.hasPrefix("params.") else { return nil }
        let name = String(trimmed.dropFirst("params.".count))
        return NamePattern.stepID.matches(name) ? name : nil
    }

    /// A placeholder found in a template, for the "unknown" and "unused" parameter checks.
    struct Site {
        var name: String
        var path: String
        var position: SourcePosition
    }

    static func sites(in node: SourceNode, path: String = "") -> [Site] {
        switch node.value {
        case .scalar(.string(let string)):
            return pieces(of: string).compactMap {
                if case .parameter(let name) = $0 {
                    Site(name: name, path: path, position: node.position)
                } else {
                    nil
                }
            }
        case .scalar:
            return []
        case .sequence(let elements):
            return elements.enumerated().flatMap { sites(in: $1, path: FlowPath.index(path, $0)) }
        case .mapping(let entries):
            return entries.flatMap { sites(in: $0.value, path: FlowPath.child(path, $0.key)) }
        }
    }

    /// The node with every placeholder replaced: a string that is one placeholder becomes the value
    /// itself (any JSON type); placeholders inside longer strings become the value's text (a string
    /// as is, anything else as compact JSON). Replacements keep the placeholder's position.
    static func substitute(_ node: SourceNode, values: [String: JSONValue]) -> SourceNode {
        switch node.value {
        case .scalar(.string(let string)):
            let pieces = pieces(of: string)
            guard pieces.contains(where: { if case .parameter = $0 { true } else { false } }) else {
                return node
            }
            if pieces.count == 1, case .parameter(let name) = pieces[0], let value = values[name] {
                return SourceNode(json: escaped(value)).positioned(at: node.position)
            }
            var result = ""
            for piece in pieces {
                switch piece {
                case .text(let text): result += text
                case .parameter(let name):
                    guard let value = values[name] else { return node }
                    if case .string(let string) = value {
                        result += escaped(string)
                    } else {
                        result += escaped(value.jsonString(.compact))
                    }
                }
            }
            return SourceNode(value: .scalar(.string(result)), position: node.position)
        case .scalar:
            return node
        case .sequence(let elements):
            var copy = node
            copy.value = .sequence(elements.map { substitute($0, values: values) })
            return copy
        case .mapping(let entries):
            var copy = node
            copy.value = .mapping(
                entries.map {
                    .init(
                        key: $0.key, keyPosition: $0.keyPosition, value: substitute($0.value, values: values))
                })
            return copy
        }
    }

    private static func escaped(_ text: String) -> String {
        text.replacing("${{", with: "$${{")
    }

    private static func escaped(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let string): .string(escaped(string))
        case .array(let elements): .array(elements.map(escaped))
        case .object(let object): .object(JSONObject(object.map { ($0.key, escaped($0.value)) }))
        default: value
        }
    }
}

extension SourceNode {
    /// The same tree with every node placed at `position` (for values substituted into a template).
    func positioned(at position: SourcePosition) -> SourceNode {
        var copy = self
        copy.position = position
        switch value {
        case .scalar: break
        case .sequence(let elements): copy.value = .sequence(elements.map { $0.positioned(at: position) })
        case .mapping(let entries):
            copy.value = .mapping(
                entries.map {
                    .init(key: $0.key, keyPosition: position, value: $0.value.positioned(at: position))
                })
        }
        return copy
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first == " " || first == "\t" || first == "\n" {
            scalars.removeFirst()
        }
        while let last = scalars.last, last == " " || last == "\t" || last == "\n" { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
