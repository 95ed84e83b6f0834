extension HTTPAction {
    /// What a successful exchange spent: each `usage` template evaluated with `response` set to the step's
    /// outputs (`{status, headers, body}`). A template that gives null reports nothing for its dimension
    /// (the response did not say); anything else must be a number `Usage` accepts.
    public func spent(response: JSONValue, context: ExpressionContext) throws(UsageProblem) -> Usage {
        guard !usage.isEmpty else { return .zero }
        var context = context
        context.response = response
        var report = JSONObject()
        for dimension in UsageDimension.allCases {
            guard let source = usage[dimension] else { continue }
            let field = "http.usage.\(dimension.rawValue)"
            let value: JSONValue
            do {
                value = try ExpressionTemplate(parsing: source).evaluate(in: context)
            } catch {
                throw UsageProblem(field: field, key: dimension.rawValue, message: error.message)
            }
            if !value.isNull { report[dimension.rawValue] = value }
        }
        return try Usage(json: .object(report), field: "http.usage")
    }
}
