internal import Yams

/// Reads one YAML document into `SourceNode`s with YAML 1.2 core-schema scalars.
///
/// Yams composes recursively and expands aliases by sharing; both are bounded here: the text's
/// nesting is measured before Yams sees it (`NestingBound`), and the expanded tree may hold at most
/// `FlowLimits.maximumNodes` nodes, so a billion-laughs document fails fast with an error.
struct YAMLSourceReader {
    var limits: FlowLimits
    var errors: [FlowError] = []
    private var nodeCount = 0
    private var budgetExceeded = false
    private let file: String

    init(file: String, limits: FlowLimits) {
        self.file = file
        self.limits = limits
    }

    /// The document's root, or nil with `errors` saying why.
    mutating func read(_ text: String) -> SourceNode? {
        if text.utf8.count > limits.maximumBytes {
            fail(
                .limitExceeded, .init(line: 1, column: 1), "",
                "expected at most \(limits.maximumBytes) bytes of YAML; got \(text.utf8.count)")
            return nil
        }
        if let deep = NestingBound.firstPositionDeeper(than: limits.maximumDepth, in: text) {
            fail(
                .limitExceeded, deep, "",
                "expected at most \(limits.maximumDepth) levels of nesting")
            return nil
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            reportSyntax(error)
            return nil
        } catch {
            fail(.yamlSyntax, .init(line: 1, column: 1), "", "invalid YAML")
            return nil
        }
        guard let root else {
            fail(
                .missingField, .init(line: 1, column: 1), "",
                "expected a flow definition; got an empty document")
            return nil
        }
        let node = convert(root)
        return budgetExceeded ? nil : node
    }

    private mutating func fail(
        _ code: FlowError.Code, _ position: SourcePosition, _ path: String, _ message: String
    ) {
        errors.append(FlowError(code: code, file: file, position: position, path: path, message: message))
    }

    private mutating func reportSyntax(_ error: YamlError) {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            fail(.yamlSyntax, .init(line: mark.line, column: mark.column), "", message)
        case .reader(let problem, _, _, _):
            fail(.yamlSyntax, .init(line: 1, column: 1), "", "invalid YAML text: \(problem)")
        default:
            fail(.yamlSyntax, .init(line: 1, column: 1), "", "invalid YAML")
        }
    }

    private mutating func convert(_ node: Node) -> SourceNode {
        let position = node.mark.map { SourcePosition(line: $0.line, column: $0.column) } ?? .unknown
        nodeCount += 1
        if nodeCount > limits.maximumNodes {
            if !budgetExceeded {
                budgetExceeded = true
                fail(
                    .limitExceeded, position, "",
                    "expected at most \(limits.maximumNodes) values after expanding aliases")
            }
            return SourceNode(value: .scalar(.null), position: position)
        }
        switch node {
        case .scalar(let scalar):
            let plainText = scalar.style == .plain ? scalar.string : nil
            return SourceNode(
                value: .scalar(resolve(scalar, at: position)), position: position, plainText: plainText)
        case .sequence(let sequence):
            checkTag(sequence.tag, allowed: [Tag.Name.seq.rawValue], at: position)
            var elements: [SourceNode] = []
            elements.reserveCapacity(sequence.count)
            for element in sequence {
                if budgetExceeded { break }
                elements.append(convert(element))
            }
            return SourceNode(value: .sequence(elements), position: position)
        case .mapping(let mapping):
            checkTag(mapping.tag, allowed: [Tag.Name.map.rawValue], at: position)
            return SourceNode(value: .mapping(entries(of: mapping)), position: position)
        }
    }

    /// The mapping's entries in order, with `<<` merge keys applied and duplicate keys reported.
    private mutating func entries(of mapping: Node.Mapping) -> [SourceNode.Entry] {
        var entries: [SourceNode.Entry] = []
        var merged: [SourceNode.Entry] = []
        var seen: [String: SourcePosition] = [:]
        for (keyNode, valueNode) in mapping {
            if budgetExceeded { break }
            let keyPosition =
                keyNode.mark.map { SourcePosition(line: $0.line, column: $0.column) } ?? .unknown
            guard case .scalar(let keyScalar) = keyNode else {
                fail(
                    .wrongType, keyPosition, "", "expected a string as mapping key; got a \(keyNode.kindName)"
                )
                continue
            }
            if keyScalar.style == .plain && keyScalar.string == "<<" && keyScalar.tag.description.isEmpty {
                merged.append(contentsOf: mergeEntries(from: convert(valueNode)))
                continue
            }
            let key: String
            switch resolve(keyScalar, at: keyPosition) {
            case .string(let string): key = string
            case .bool(let bool): key = bool ? "true" : "false"
            case .number, .nonFiniteNumber: key = keyScalar.string
            case .null: key = keyScalar.string
            }
            if let first = seen[key] {
                fail(
                    .duplicateKey, keyPosition, "",
                    "expected each key once; '\(FlowError.quoted(key))' is also at line \(first.line)")
                continue
            }
            seen[key] = keyPosition
            entries.append(.init(key: key, keyPosition: keyPosition, value: convert(valueNode)))
        }
        for entry in merged where seen[entry.key] == nil {
            seen[entry.key] = entry.keyPosition
            entries.append(entry)
        }
        return entries
    }

    private mutating func mergeEntries(from node: SourceNode) -> [SourceNode.Entry] {
        switch node.value {
        case .mapping(let entries):
            return entries
        case .sequence(let elements):
            var result: [SourceNode.Entry] = []
            for element in elements {
                guard case .mapping(let entries) = element.value else {
                    fail(
                        .wrongType, element.position, "",
                        "expected mappings to merge with '<<'; got a \(element.typeName)")
                    continue
                }
                for entry in entries where !result.contains(where: { $0.key == entry.key }) {
                    result.append(entry)
                }
            }
            return result
        case .scalar:
            fail(
                .wrongType, node.position, "", "expected a mapping to merge with '<<'; got a \(node.typeName)"
            )
            return []
        }
    }

    private mutating func checkTag(_ tag: Tag, allowed: [String], at position: SourcePosition) {
        let name = tag.description
        if name.isEmpty || name == "!" || allowed.contains(name) { return }
        fail(.unsupportedYAML, position, "", "expected no YAML tag; got '\(FlowError.quoted(name))'")
    }

    /// YAML 1.2 core schema: only plain scalars are typed; quoted and block scalars are strings.
    private mutating func resolve(_ scalar: Node.Scalar, at position: SourcePosition) -> SourceNode.Scalar {
        let text = scalar.string
        let tag = scalar.tag.description
        switch tag {
        case "", "!":
            break
        case Tag.Name.str.rawValue:
            return .string(text)
        case Tag.Name.null.rawValue, Tag.Name.bool.rawValue, Tag.Name.int.rawValue, Tag.Name.float.rawValue:
            let resolved = CoreSchema.resolve(plain: text)
            let matches: Bool
            switch resolved {
            case .null: matches = tag == Tag.Name.null.rawValue
            case .bool: matches = tag == Tag.Name.bool.rawValue
            case .number(let number): matches = tag == Tag.Name.float.rawValue || number.isInteger
            case .nonFiniteNumber: matches = tag == Tag.Name.float.rawValue
            case .string: matches = false
            }
            if !matches {
                fail(
                    .wrongType, position, "",
                    "expected a value matching tag '\(tag)'; got '\(FlowError.quoted(text))'")
            }
            return resolved
        default:
            fail(.unsupportedYAML, position, "", "expected no YAML tag; got '\(FlowError.quoted(tag))'")
            return .string(text)
        }
        guard tag.isEmpty, scalar.style == .plain else { return .string(text) }
        return CoreSchema.resolve(plain: text)
    }
}

extension Node {
    fileprivate var kindName: String {
        switch self {
        case .scalar: "scalar"
        case .mapping: "mapping"
        case .sequence: "list"
        }
    }
}
