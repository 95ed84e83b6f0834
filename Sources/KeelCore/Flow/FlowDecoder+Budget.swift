extension FlowDecoder {
    static let budgetFields = [
        "tokens", "machine_minutes", "money", "raise", "approvers", "allow_self_approval",
    ]

    /// `budget:`: at least one of `tokens` (an integer ≥ 1), `machine_minutes` (a number > 0) and `money`
    /// (`{amount, currency}`); `raise` with amounts for limited dimensions only; `approvers` required.
    mutating func decodeBudget(_ node: SourceNode, _ path: String) -> FlowBudget? {
        guard let fields = fields(node, path, allowed: Self.budgetFields) else { return nil }
        let errorCount = errors.count
        var limits = UsageLimits()
        var currency: String?
        if let tokens = fields["tokens"] {
            limits.tokens = amount(tokens, fields.path("tokens"), integer: true)
        }
        if let minutes = fields["machine_minutes"] {
            limits.machineMinutes = amount(minutes, fields.path("machine_minutes"), integer: false)
        }
        if let moneyNode = fields["money"],
            let money = self.fields(moneyNode, fields.path("money"), allowed: ["amount", "currency"])
        {
            limits.money = required(money, "amount").flatMap {
                amount($0, money.path("amount"), integer: false)
            }
            if let codeNode = required(money, "currency"), let code = string(codeNode, money.path("currency"))
            {
                if code.utf8.count == 3,
                    code.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) })
                {
                    currency = code
                } else {
                    fail(
                        .invalidValue, at: codeNode.position, money.path("currency"),
                        "expected an ISO 4217 currency code of three capital letters (USD, EUR); got '\(FlowError.quoted(code))'"
                    )
                }
            }
        }
        if errors.count == errorCount, limits.dimensions.isEmpty {
            fail(
                .missingField, at: node.position, path,
                "expected at least one of tokens, machine_minutes, money")
        }
        var raise: UsageLimits?
        if let raiseNode = fields["raise"],
            let raiseFields = self.fields(
                raiseNode, fields.path("raise"), allowed: UsageDimension.allCases.map(\.rawValue))
        {
            var amounts = UsageLimits()
            for dimension in UsageDimension.allCases {
                guard let amountNode = raiseFields[dimension.rawValue] else { continue }
                let amountPath = raiseFields.path(dimension.rawValue)
                guard fields.has(dimension.rawValue) else {
                    fail(
                        .invalidValue, at: amountNode.position, amountPath,
                        "expected a raise only for a limited dimension; the budget has no \(dimension.rawValue)"
                    )
                    continue
                }
                amounts[dimension] = amount(amountNode, amountPath, integer: dimension == .tokens)
            }
            raise = amounts
        }
        let approvers =
            required(fields, "approvers").map { decodeApprovers($0, fields.path("approvers")) } ?? []
        let allowSelf = fields["allow_self_approval"].flatMap { bool($0, fields.path("allow_self_approval")) }
        guard errors.count == errorCount else { return nil }
        return FlowBudget(
            limits: limits, currency: currency, raise: raise, approvers: approvers,
            allowSelfApproval: allowSelf ?? false)
    }

    /// A positive amount no greater than `Usage.maximumAmount`; an integer when `integer`.
    private mutating func amount(_ node: SourceNode, _ path: String, integer: Bool) -> Double? {
        guard case .scalar(.number(let number)) = node.value, !integer || number.isInteger else {
            wrongType(node, path, expected: integer ? "an integer" : "a number")
            return nil
        }
        let value = number.doubleValue
        guard value > 0, value <= Usage.maximumAmount else {
            fail(
                .invalidValue, at: node.position, path,
                "expected a number greater than 0 and at most 1e15; got \(number)")
            return nil
        }
        return value
    }
}

extension FlowBudget {
    /// The canonical form: `raise` only where it differs from the initial limit, approvers sorted.
    var jsonValue: JSONValue {
        var object = JSONObject()
        for dimension in [UsageDimension.tokens, .machineMinutes] {
            if let limit = limits[dimension] { object[dimension.rawValue] = .number(UsageAmount.json(limit)) }
        }
        if let money = limits.money {
            object["money"] = [
                "amount": .number(UsageAmount.json(money)),
                "currency": currency.map(JSONValue.string) ?? .null,
            ]
        }
        var raised = JSONObject()
        for dimension in limits.dimensions where raise[dimension] != limits[dimension] {
            if let amount = raise[dimension] {
                raised[dimension.rawValue] = .number(UsageAmount.json(amount))
            }
        }
        if !raised.isEmpty { object["raise"] = .object(raised) }
        object["approvers"] = .array(approvers.map { .string($0.description) })
        if allowSelfApproval { object["allow_self_approval"] = true }
        return .object(object)
    }
}
