import Testing
import TaskerCore

@Suite struct WorkflowGraphTests {
    @Test func diamondRootsParentsChildrenAndOrder() throws {
        let graph = try Fixtures.graph([("end", ["b", "c"]), ("c", ["start"]), ("b", ["start"]), ("start", [])])
        let index = { (name: String) in graph.index(of: name)! }
        #expect(graph.roots == [index("start")])
        #expect(graph.leaves == [index("end")])
        #expect(Set(graph.parents[index("end")]) == [index("b"), index("c")])
        #expect(Set(graph.children[index("start")]) == [index("b"), index("c")])
        let position = Dictionary(uniqueKeysWithValues: graph.topologicalOrder.enumerated().map { ($1, $0) })
        for child in 0..<graph.count {
            for parent in graph.parents[child] { #expect(position[parent]! < position[child]!) }
        }
        #expect(graph.topologicalOrder.count == 4)
        #expect(graph.descendants(of: index("b")) == [index("end")])
        #expect(graph.descendants(of: index("start")).count == 3)
    }

    @Test func repeatedDependencyCountsOnce() throws {
        let graph = try Fixtures.graph([("a", []), ("b", ["a", "a"])])
        #expect(graph.parents[1] == [0])
        #expect(graph.children[0] == [1])
    }

    @Test func errorsNameTheProblem() {
        #expect(throws: GraphError.self) { try Fixtures.graph([("a", []), ("a", [])]) }
        do {
            _ = try Fixtures.graph([("a", ["b"]), ("b", ["c"]), ("c", ["a"])])
            Issue.record("expected a cycle")
        } catch let error as GraphError {
            #expect(error.code == .cycle)
            #expect(error.path.first == error.path.last)
            #expect(Set(error.path) == ["a", "b", "c"])
            #expect(error.description.hasPrefix("dependency cycle: "))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func wideFanOutBuildsQuickly() throws {
        var nodes: [(String, [String])] = [("root", [])]
        for i in 0..<10_000 { nodes.append(("leaf_\(i)", ["root"])) }
        nodes.append(("join", (0..<10_000).map { "leaf_\($0)" }))
        let graph = try Fixtures.graph(nodes)
        #expect(graph.children[0].count == 10_000)
        #expect(graph.topologicalOrder.last == 10_001)
    }
}
