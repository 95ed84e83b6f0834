import KeelCore

extension StepActionRenderer {
    /// A renderer with the executor's secrets: every one of them (and the executor's credentials) is
    /// masked in what the attempt stores, read or not.
    init(context: ExpressionContext, secrets: SecretSource) {
        self.init(context: context, secrets: secrets.resolver, alwaysMasked: secrets.masked)
    }
}
