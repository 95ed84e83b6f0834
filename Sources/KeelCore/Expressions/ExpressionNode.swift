/// A node of a compiled expression's syntax tree, with the source range it came from.
struct ExpressionNode: Sendable {
    indirect enum Kind: Sendable {
        case literal(JSONValue)
        case input
        case stepOutputs(String)
        case stepStatus(String)
        case stepDecision(String)
        case run(RunField)
        case map(MapField)
        /// `response`: the response an `http` step got, read only by its `usage`.
        case response
        case secret(String)
        /// `base.name` or `base['name']`.
        case member(ExpressionNode, String)
        /// `base[index]` with a computed index.
        case index(ExpressionNode, ExpressionNode)
        case not(ExpressionNode)
        case comparison(ComparisonOperator, ExpressionNode, ExpressionNode)
        /// A whole chain `a && b && c` (or `||`), kept flat so long chains do not nest.
        case logical(LogicalOperator, [ExpressionNode])
        case call(ExpressionFunction, [ExpressionNode])
    }

    enum ComparisonOperator: String, Sendable {
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
    }

    enum LogicalOperator: String, Sendable {
        case and = "&&"
        case or = "||"
    }

    let kind: Kind
    /// 0-based scalar range of the node in the expression body.
    let start: Int
    let end: Int
    /// Height of the subtree; bounded by `ExpressionLimits.maximumDepth` so evaluation's recursion is.
    let depth: Int

    init(_ kind: Kind, start: Int, end: Int, children: [ExpressionNode] = []) {
        self.kind = kind
        self.start = start
        self.end = end
        self.depth = 1 + (children.map(\.depth).max() ?? 0)
    }
}
