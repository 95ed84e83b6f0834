extension FlowValidator {
    /// Every template must compile, and may refer only to steps its own step needs (transitively);
    /// flow-level templates (concurrency key, shard key) are evaluated before any step runs and may
    /// refer to no step at all.
    mutating func checkTemplates(
        graph: StepGraph, acyclic: Bool, indexByID: [String: Int], skeletons: [FlowDecoder.StepSkeleton]
    ) {
        var ancestorCache: [Int: Set<Int>] = [:]
        for site in decoder.templates {
            let stepIDs: [String]
            switch TemplateCheck.stepReferences(in: site.text) {
            case .failure(let problem):
                decoder.fail(.invalidExpression, at: site.position, site.path, "invalid expression: \(problem.message)")
                continue
            case .success(let references):
                stepIDs = references
            }
            for referenced in Set(stepIDs).sorted() {
                guard let target = indexByID[referenced] else {
                    var message = "expression refers to unknown step '\(FlowError.quoted(referenced))'"
                    if let suggestion = Suggestion.closest(to: referenced, among: Array(indexByID.keys)) {
                        message += "; did you mean '\(suggestion)'?"
                    }
                    decoder.fail(.unknownStep, at: site.position, site.path, message)
                    continue
                }
                guard let stepIndex = site.stepIndex else {
                    decoder.fail(.invalidExpression, at: site.position, site.path,
                                 "expected no step reference here (evaluated when the run is triggered); got steps.\(referenced)")
                    continue
                }
                guard acyclic else { continue }
                if ancestorCache[stepIndex] == nil { ancestorCache[stepIndex] = graph.ancestors(of: stepIndex) }
                if ancestorCache[stepIndex]?.contains(target) != true {
                    let own = skeletons[stepIndex].id ?? "this step"
                    let problem = target == stepIndex ? "a step cannot refer to itself" : "'\(referenced)' is not among the steps '\(own)' needs"
                    decoder.fail(.unknownStep, at: site.position, site.path,
                                 "expression refers to step '\(referenced)', which may not have run: \(problem); add it to needs")
                }
            }
        }
    }
}
