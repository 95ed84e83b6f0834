/// Checks that need the whole flow: unique ids, `needs` that exist and form no cycle,
/// `request_changes` targets among the ancestors, and every template.
struct FlowValidator {
    var decoder: FlowDecoder

    mutating func validate() {
        let skeletons = decoder.skeletons
        var indexByID: [String: Int] = [:]
        for skeleton in skeletons {
            guard let id = skeleton.id else { continue }
            if let first = indexByID[id] {
                let original = skeletons[first]
                decoder.fail(
                    .duplicateStepID, at: skeleton.idPosition, FlowPath.child(skeleton.path, "id"),
                    "expected a unique step id; '\(id)' is already used by \(original.path)\(Self.at(original.idPosition))"
                )
            } else {
                indexByID[id] = skeleton.index
            }
        }
        let allIDs = skeletons.compactMap(\.id)
        var edges = [[Int]](repeating: [], count: skeletons.count)
        for skeleton in skeletons {
            for need in skeleton.needs {
                guard let target = indexByID[need.id] else {
                    var message =
                        "expected the id of a step in this flow; there is no step '\(FlowError.quoted(need.id))'"
                    if let suggestion = Suggestion.closest(to: need.id, among: allIDs) {
                        message += "; did you mean '\(suggestion)'?"
                    }
                    decoder.fail(.unknownStep, at: need.position, need.path, message)
                    continue
                }
                edges[skeleton.index].append(target)
            }
        }
        let graph = StepGraph(needs: edges)
        let cycles = graph.cycles()
        for cycle in cycles {
            let first = skeletons[cycle[0]]
            let names = cycle.map { skeletons[$0].id ?? "?" }.joined(separator: " -> ")
            let position = first.needs.first { indexByID[$0.id] == cycle[1] }?.position ?? first.position
            decoder.fail(
                .cycle, at: position, FlowPath.child(first.path, "needs"),
                "expected no cycle in needs; steps form the cycle \(names)")
        }
        let acyclic = cycles.isEmpty
        for skeleton in skeletons {
            guard let target = skeleton.requestChanges else { continue }
            guard let targetIndex = indexByID[target.id] else {
                decoder.fail(
                    .unknownStep, at: target.position, target.path,
                    "expected the id of a step in this flow; there is no step '\(FlowError.quoted(target.id))'"
                )
                continue
            }
            if acyclic && !graph.ancestors(of: skeleton.index).contains(targetIndex) {
                decoder.fail(
                    .invalidValue, at: target.position, target.path,
                    "expected a step this approval needs (directly or transitively); '\(target.id)' is not among them"
                )
            }
        }
        checkTemplates(graph: graph, acyclic: acyclic, indexByID: indexByID, skeletons: skeletons)
    }

    private static func at(_ position: SourcePosition) -> String {
        position == .unknown ? "" : " at line \(position.line)"
    }
}
