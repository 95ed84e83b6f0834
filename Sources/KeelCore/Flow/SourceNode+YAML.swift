internal import Yams

extension SourceNode {
    /// The tree as block-style YAML that `YAMLSourceReader` reads back to the same values.
    ///
    /// Strings a YAML 1.2 core-schema reader would take for something else (`"123"`, `"true"`,
    /// `""`) are double-quoted; multi-line strings use literal blocks so scripts stay readable.
    func yamlText() throws -> String {
        try Yams.serialize(node: yamlNode(), indent: 2, width: -1, allowUnicode: true)
    }

    private func yamlNode() -> Node {
        switch value {
        case .scalar(.null): return .scalar(.init("null", .implicit, .plain))
        case .scalar(.bool(let bool)): return .scalar(.init(bool ? "true" : "false", .implicit, .plain))
        case .scalar(.number(let number)): return .scalar(.init(number.description, .implicit, .plain))
        case .scalar(.nonFiniteNumber(let text)): return .scalar(.init(text, .implicit, .plain))
        case .scalar(.string(let string)):
            let style: Node.Scalar.Style
            if string.contains("\n") {
                style = .literal
            } else if CoreSchema.resolve(plain: string) == .string(string) {
                style = .any
            } else {
                style = .doubleQuoted
            }
            return .scalar(.init(string, Tag(.str), style))
        case .sequence(let elements):
            return .sequence(.init(elements.map { $0.yamlNode() }, .implicit, .block))
        case .mapping(let entries):
            return .mapping(
                .init(
                    entries.map { (Node.scalar(.init($0.key, Tag(.str), .any)), $0.value.yamlNode()) },
                    .implicit, .block))
        }
    }
}
