extension FlowDefinition {
    /// Names of the secrets the flow reads through `${{ secrets.NAME }}`, sorted: what an operator
    /// must provide before it can run. Values are never part of a flow.
    public var secretNames: [String] {
        var names = Set<String>()
        func visit(_ value: JSONValue) {
            switch value {
            case .string(let string) where string.contains("${{"):
                if let template = try? ExpressionTemplate(parsing: string) {
                    names.formUnion(template.references.secrets)
                }
            case .array(let elements): elements.forEach(visit)
            case .object(let object): object.forEach { visit($0.value) }
            default: break
            }
        }
        visit(jsonValue)
        return names.sorted()
    }
}
