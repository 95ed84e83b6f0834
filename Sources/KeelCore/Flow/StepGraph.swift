/// The `needs` graph over step indexes (declaration order), shared by validation and by
/// `FlowDefinition`'s order helpers.
struct StepGraph: Sendable {
    /// `needs[i]`: indexes of the steps step i needs, as written.
    let needs: [[Int]]

    init(needs: [[Int]]) {
        self.needs = needs
    }

    init(steps: [StepDefinition]) {
        var index: [String: Int] = [:]
        for (position, step) in steps.enumerated() where index[step.id] == nil {
            index[step.id] = position
        }
        needs = steps.map { $0.needs.compactMap { index[$0] } }
    }

    /// Kahn's algorithm, always taking the earliest-declared ready step; nil if there is a cycle.
    func topologicalOrder() -> [Int]? {
        var dependents = [[Int]](repeating: [], count: needs.count)
        var remaining = [Int](repeating: 0, count: needs.count)
        for (step, required) in needs.enumerated() {
            remaining[step] = required.count
            for need in required { dependents[need].append(step) }
        }
        var ready = MinHeap(remaining.indices.filter { remaining[$0] == 0 })
        var order: [Int] = []
        order.reserveCapacity(needs.count)
        while let step = ready.popMin() {
            order.append(step)
            for dependent in dependents[step] {
                remaining[dependent] -= 1
                if remaining[dependent] == 0 { ready.insert(dependent) }
            }
        }
        return order.count == needs.count ? order : nil
    }

    /// Every step `step` transitively needs.
    func ancestors(of step: Int) -> Set<Int> {
        var seen: Set<Int> = []
        var stack = needs[step]
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack.append(contentsOf: needs[next]) }
        }
        return seen
    }

    /// One cycle per strongly connected component that has one, each starting at its
    /// earliest-declared step and following `needs`: `[a, b, a]`. Sorted by first step.
    func cycles() -> [[Int]] {
        var cycles: [[Int]] = []
        for component in stronglyConnectedComponents() {
            guard let start = component.min() else { continue }
            if component.count == 1 && !needs[start].contains(start) { continue }
            let members = Set(component)
            // Shortest path start → … → start inside the component (breadth-first).
            var parent: [Int: Int] = [:]
            var queue = [start]
            var head = 0
            var closing: Int?
            search: while head < queue.count {
                let current = queue[head]
                head += 1
                for next in needs[current] where members.contains(next) {
                    if next == start {
                        closing = current
                        break search
                    }
                    if parent[next] == nil {
                        parent[next] = current
                        queue.append(next)
                    }
                }
            }
            guard var node = closing else { continue }
            var path = [start]
            var reversed: [Int] = []
            while node != start {
                reversed.append(node)
                guard let previous = parent[node] else { break }
                node = previous
            }
            path.append(contentsOf: reversed.reversed())
            path.append(start)
            cycles.append(path)
        }
        return cycles.sorted { $0[0] < $1[0] }
    }

    /// Tarjan's algorithm, iterative so a long chain of steps cannot exhaust the stack.
    private func stronglyConnectedComponents() -> [[Int]] {
        let count = needs.count
        var indexOf = [Int](repeating: -1, count: count)
        var lowLink = [Int](repeating: 0, count: count)
        var onStack = [Bool](repeating: false, count: count)
        var stack: [Int] = []
        var components: [[Int]] = []
        var nextIndex = 0
        for root in 0..<count where indexOf[root] == -1 {
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            indexOf[root] = nextIndex
            lowLink[root] = nextIndex
            nextIndex += 1
            stack.append(root)
            onStack[root] = true
            while let (node, edge) = work.last {
                if edge < needs[node].count {
                    work[work.count - 1].edge += 1
                    let next = needs[node][edge]
                    if indexOf[next] == -1 {
                        indexOf[next] = nextIndex
                        lowLink[next] = nextIndex
                        nextIndex += 1
                        stack.append(next)
                        onStack[next] = true
                        work.append((next, 0))
                    } else if onStack[next] {
                        lowLink[node] = min(lowLink[node], indexOf[next])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last?.node { lowLink[parent] = min(lowLink[parent], lowLink[node]) }
                if lowLink[node] == indexOf[node] {
                    var component: [Int] = []
                    while let member = stack.popLast() {
                        onStack[member] = false
                        component.append(member)
                        if member == node { break }
                    }
                    components.append(component)
                }
            }
        }
        return components
    }
}

/// A binary min-heap of step indexes.
private struct MinHeap {
    private var elements: [Int] = []

    init(_ initial: [Int]) {
        for element in initial { insert(element) }
    }

    mutating func insert(_ element: Int) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child] < elements[parent] else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Int? {
        guard let first = elements.first else { return nil }
        let last = elements.removeLast()
        if elements.isEmpty { return first }
        elements[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < elements.count && elements[left] < elements[smallest] { smallest = left }
            if right < elements.count && elements[right] < elements[smallest] { smallest = right }
            if smallest == parent { break }
            elements.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}

extension FlowDefinition {
    /// Steps in an order where each comes after all it needs; among steps ready together, the
    /// one declared first comes first, so the order is deterministic.
    public var topologicalOrder: [StepDefinition] {
        // A FlowDefinition is acyclic by construction; the fallback keeps this total anyway.
        guard let order = StepGraph(steps: steps).topologicalOrder() else { return steps }
        return order.map { steps[$0] }
    }

    /// The ids of every step `stepID` transitively needs; empty for an unknown id.
    public func ancestors(of stepID: String) -> Set<String> {
        guard let index = steps.firstIndex(where: { $0.id == stepID }) else { return [] }
        return Set(StepGraph(steps: steps).ancestors(of: index).map { steps[$0].id })
    }
}
