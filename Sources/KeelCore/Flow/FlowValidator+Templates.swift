extension FlowValidator {
    /// Every template must compile, and may refer only to steps its own step needs (transitively);
    /// flow-level templates (concurrency key, shard key) are evaluated before any step runs and may
    /// refer to no step at all.
    mutating func checkTemplates(
        graph: StepGraph, acyclic: Bool, indexByID: [String: Int], skeletons: [FlowDecoder.StepSkeleton]
    ) {
        var ancestorCache: [Int: Set<Int>] = [:]
        for site in decoder.templates {
            let template: ExpressionTemplate
            do {
                template = try ExpressionTemplate(parsing: site.text)
            } catch {
                if let exact = locate(error.column, in: site) {
                    decoder.fail(
                        .invalidExpression, at: exact, site.path, "invalid expression: \(error.message)")
                } else {
                    decoder.fail(
                        .invalidExpression, at: site.position, site.path,
                        "invalid expression: \(error.message) at column \(error.column) of the template")
                }
                continue
            }
            checkInputPaths(template.references.inputPaths, site: site)
            checkMapReads(template.references.mapFields, site: site, skeletons: skeletons)
            checkUsageTemplate(template, site: site)
            if let secret = template.references.secrets.first, site.path.contains(".flow.input") {
                // A child's input is recorded in both runs' histories, where no secret may be.
                decoder.fail(
                    .invalidExpression, at: site.position, site.path,
                    "expected no secrets in a child run's input (it is recorded); got secrets.\(secret)")
            }
            for reference in template.references.steps {
                let referenced = reference.stepID
                var site = site
                site.position = locate(reference.column, in: site) ?? site.position
                guard let target = indexByID[referenced] else {
                    var message = "expression refers to unknown step '\(FlowError.quoted(referenced))'"
                    if let suggestion = Suggestion.closest(
                        to: referenced, among: Array(indexByID.keys).sorted())
                    {
                        message += "; did you mean '\(suggestion)'?"
                    }
                    decoder.fail(.unknownStep, at: site.position, site.path, message)
                    continue
                }
                guard let stepIndex = site.stepIndex else {
                    decoder.fail(
                        .invalidExpression, at: site.position, site.path,
                        "expected no step reference here (it is evaluated when the run is triggered); got steps.\(referenced)"
                    )
                    continue
                }
                if acyclic {
                    if ancestorCache[stepIndex] == nil {
                        ancestorCache[stepIndex] = graph.ancestors(of: stepIndex)
                    }
                    if ancestorCache[stepIndex]?.contains(target) != true {
                        let own = skeletons[stepIndex].id ?? "this step"
                        let problem =
                            target == stepIndex
                            ? "a step cannot read its own result"
                            : "add '\(referenced)' to the needs of '\(own)'"
                        decoder.fail(
                            .unknownStep, at: site.position, site.path,
                            "expression refers to step '\(referenced)', which is not among the steps '\(own)' needs; \(problem)"
                        )
                        continue
                    }
                }
                checkField(reference.field, of: skeletons[target], site: site)
            }
        }
    }

    /// `map.item` and `map.index` exist only for the elements of a mapped step: not in its `if` or
    /// `map.over` (decided once, before there are elements), nor anywhere else.
    private mutating func checkMapReads(
        _ fields: [MapField], site: FlowDecoder.TemplateSite, skeletons: [FlowDecoder.StepSkeleton]
    ) {
        guard let field = fields.first else { return }
        let mapped = site.stepIndex.map { skeletons.indices.contains($0) && skeletons[$0].isMapped } ?? false
        let perElement = !site.path.hasSuffix(".if") && !site.path.hasSuffix(".map.over")
        guard !(mapped && perElement) else { return }
        decoder.fail(
            .invalidExpression, at: site.position, site.path,
            mapped
                ? "expected no map.\(field.rawValue) here: it is evaluated once for the whole step, before its elements"
                : "expression reads map.\(field.rawValue), which only a step with map has")
    }

    /// `response` exists only for an `http` step's `usage`, read after a successful exchange; there each
    /// template is one `${{ }}` expression, so it can evaluate to a number.
    private mutating func checkUsageTemplate(_ template: ExpressionTemplate, site: FlowDecoder.TemplateSite) {
        let isUsage = site.stepIndex != nil && site.path.contains(".http.usage.")
        if isUsage {
            guard template.parts.count == 1, case .expression = template.parts[0] else {
                decoder.fail(
                    .invalidExpression, at: site.position, site.path,
                    "expected one ${{ }} expression that gives a number, e.g. ${{ response.body.usage.total_tokens }}"
                )
                return
            }
        } else if template.references.readsResponse {
            decoder.fail(
                .invalidExpression, at: site.position, site.path,
                "expression reads response, which only an http step's usage has")
        }
    }

    /// With a closed input schema (`properties` and `additionalProperties: false`), `input.NAME`
    /// must name one of its properties: a typo would otherwise evaluate to null at run time.
    private mutating func checkInputPaths(
        _ paths: [[ExpressionReferences.PathComponent]], site: FlowDecoder.TemplateSite
    ) {
        guard let schema = decoder.inputSchema?.objectValue, schema["additionalProperties"] == false,
            let properties = schema["properties"]?.objectValue
        else { return }
        for path in paths {
            guard case .key(let name)? = path.first, !properties.contains(key: name) else { continue }
            var message =
                "expression reads input.\(FlowError.quoted(name)), which the input schema does not allow (additionalProperties: false)"
            if let suggestion = Suggestion.closest(to: name, among: properties.keys) {
                message += "; did you mean '\(suggestion)'?"
            }
            decoder.fail(.invalidExpression, at: site.position, site.path, message)
        }
    }

    /// Where a template's column is in the YAML text, when the template is written verbatim.
    private func locate(_ column: Int, in site: FlowDecoder.TemplateSite) -> SourcePosition? {
        guard let source = decoder.source else { return nil }
        return TemplateLocator.position(ofColumn: column, in: site.text, at: site.position, source: source)
    }

    /// `outputs.NAME` must be declared (when the step declares outputs); `decision` needs an approval.
    private mutating func checkField(
        _ field: ExpressionReferences.StepField, of step: FlowDecoder.StepSkeleton,
        site: FlowDecoder.TemplateSite
    ) {
        let id = step.id ?? "?"
        switch field {
        case .outputs(let name?) where step.kind == "flow":
            guard !["run_id", "outcome", "steps"].contains(name) else { return }
            decoder.fail(
                .invalidExpression, at: site.position, site.path,
                "expression reads output '\(FlowError.quoted(name))' of step '\(id)', a flow step: its outputs are run_id, outcome and steps (each step's outputs in the child run)"
            )
        case .outputs(let name?) where step.isMapped:
            guard name != "results", name != "count" else { return }
            decoder.fail(
                .invalidExpression, at: site.position, site.path,
                "expression reads output '\(FlowError.quoted(name))' of step '\(id)', which has map: its outputs are results (each element's outputs, in order) and count"
            )
        case .outputs(let name?):
            guard let declared = step.outputNames, !declared.contains(name) else { return }
            var message =
                "expression reads output '\(FlowError.quoted(name))' of step '\(id)', which declares only \(declared.sorted().joined(separator: ", "))"
            if let suggestion = Suggestion.closest(to: name, among: declared.sorted()) {
                message += "; did you mean '\(suggestion)'?"
            }
            decoder.fail(.invalidExpression, at: site.position, site.path, message)
        case .decision:
            if let kind = step.kind, !step.hasApproval {
                decoder.fail(
                    .invalidExpression, at: site.position, site.path,
                    "expression reads the decision of step '\(id)', which is a \(kind) step, not an approval")
            }
        case .outputs(nil), .status:
            break
        }
    }
}
