/// Reads the step ids a template string refers to.
enum TemplateCheck {
    struct Problem: Error {
        var message: String
    }

    /// The step ids named as `steps.ID` inside `${{ }}` segments.
    static func stepReferences(in text: String) -> Result<[String], Problem> {
        var references: [String] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "${{") {
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.firstRange(of: "}}") else {
                return .failure(Problem(message: "expected '}}' to close '${{'"))
            }
            let body = afterOpen[..<close.lowerBound]
            if body.allSatisfy({ $0 == " " }) { return .failure(Problem(message: "expected an expression inside '${{ }}'")) }
            references.append(contentsOf: stepIDs(in: body))
            rest = afterOpen[close.upperBound...]
        }
        return .success(references)
    }

    private static func stepIDs(in body: Substring) -> [String] {
        var ids: [String] = []
        var rest = body
        while let range = rest.firstRange(of: "steps.") {
            let before = rest[..<range.lowerBound].last
            let id = rest[range.upperBound...].prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
            if before.map({ !($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }) ?? true, !id.isEmpty {
                ids.append(String(id))
            }
            rest = rest[range.upperBound...]
        }
        return ids
    }
}
