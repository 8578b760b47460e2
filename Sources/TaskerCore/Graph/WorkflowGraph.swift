/// A validated directed acyclic graph of named nodes, addressed by index.
///
/// Node `i` is the `i`-th name given to ``build(_:)``; parents and children are index lists
/// in ascending order, and ``topologicalOrder`` lists every node after all its parents.
public struct WorkflowGraph: Sendable, Hashable {
    /// Node names in declaration order.
    public let names: [String]
    /// `parents[i]`: the nodes node `i` depends on.
    public let parents: [[Int]]
    /// `children[i]`: the nodes that depend on node `i`.
    public let children: [[Int]]
    /// Every node after all of its parents; ties keep declaration order.
    public let topologicalOrder: [Int]
    private let indexByName: [String: Int]

    /// Nodes without parents.
    public var roots: [Int] { parents.indices.filter { parents[$0].isEmpty } }
    /// Nodes without children.
    public var leaves: [Int] { children.indices.filter { children[$0].isEmpty } }
    public var count: Int { names.count }

    /// The index of the node named `name`.
    public func index(of name: String) -> Int? { indexByName[name] }

    /// Builds and validates a graph from `(name, dependsOn)` pairs.
    /// - Throws: ``GraphError`` for a duplicate name, an unknown dependency or a cycle (with its path).
    public static func build(_ nodes: [(name: String, dependsOn: [String])]) throws(GraphError) -> WorkflowGraph {
        var indexByName: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            if indexByName[node.name] != nil { throw GraphError(.duplicateNode, node: node.name) }
            indexByName[node.name] = index
        }
        var parents = Array(repeating: [Int](), count: nodes.count)
        var children = Array(repeating: [Int](), count: nodes.count)
        for (index, node) in nodes.enumerated() {
            var seen = Set<Int>()
            for dependency in node.dependsOn {
                guard let parent = indexByName[dependency] else {
                    throw GraphError(.unknownDependency, node: node.name, detail: dependency)
                }
                if parent == index { throw GraphError(.cycle, node: node.name, path: [node.name, node.name]) }
                if seen.insert(parent).inserted {
                    parents[index].append(parent)
                    children[parent].append(index)
                }
            }
        }
        for i in parents.indices { parents[i].sort() }
        for i in children.indices { children[i].sort() }
        if let cycle = findCycle(children: children) {
            let path = cycle.map { nodes[$0].name }
            throw GraphError(.cycle, node: path[0], path: path)
        }
        return WorkflowGraph(
            names: nodes.map(\.name),
            parents: parents,
            children: children,
            topologicalOrder: kahnOrder(parents: parents, children: children),
            indexByName: indexByName
        )
    }

    /// Every node reachable from `start` through child edges, `start` excluded.
    public func descendants(of start: Int) -> Set<Int> {
        var seen = Set<Int>()
        var stack = children[start]
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack.append(contentsOf: children[next]) }
        }
        return seen
    }

    /// A cycle as a closed path of indices (`a, b, a`), or `nil` when the graph is acyclic.
    private static func findCycle(children: [[Int]]) -> [Int]? {
        enum Mark { case unvisited, onStack, done }
        var marks = Array(repeating: Mark.unvisited, count: children.count)
        var stack: [Int] = []
        func visit(_ node: Int) -> [Int]? {
            marks[node] = .onStack
            stack.append(node)
            for child in children[node] {
                switch marks[child] {
                case .onStack:
                    let start = stack.firstIndex(of: child)!
                    return Array(stack[start...]) + [child]
                case .unvisited:
                    if let cycle = visit(child) { return cycle }
                case .done:
                    continue
                }
            }
            stack.removeLast()
            marks[node] = .done
            return nil
        }
        for node in children.indices where marks[node] == .unvisited {
            if let cycle = visit(node) { return cycle }
        }
        return nil
    }

    private static func kahnOrder(parents: [[Int]], children: [[Int]]) -> [Int] {
        var remaining = parents.map(\.count)
        var ready = remaining.indices.filter { remaining[$0] == 0 }
        var order: [Int] = []
        order.reserveCapacity(parents.count)
        var cursor = 0
        while cursor < ready.count {
            let node = ready[cursor]
            cursor += 1
            order.append(node)
            for child in children[node] {
                remaining[child] -= 1
                if remaining[child] == 0 { ready.append(child) }
            }
        }
        return order
    }
}

/// Why a set of nodes is not a valid DAG.
public struct GraphError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable { case duplicateNode, unknownDependency, cycle }
        private let base: Base
        public static let duplicateNode = Code(base: .duplicateNode)
        public static let unknownDependency = Code(base: .unknownDependency)
        public static let cycle = Code(base: .cycle)
        public var description: String { "\(base)" }
    }

    public let code: Code
    /// The node the problem was found at.
    public let node: String
    /// For ``Code/unknownDependency``, the missing name.
    public let detail: String?
    /// For ``Code/cycle``, the closed path (`a -> b -> a`).
    public let path: [String]

    init(_ code: Code, node: String, detail: String? = nil, path: [String] = []) {
        self.code = code
        self.node = node
        self.detail = detail
        self.path = path
    }

    public var description: String {
        switch code {
        case .duplicateNode: return "duplicate step name '\(node)'"
        case .unknownDependency: return "depends on unknown step '\(detail ?? "")'"
        default: return "dependency cycle: \(path.joined(separator: " -> "))"
        }
    }
}
