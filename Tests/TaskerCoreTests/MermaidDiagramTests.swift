import Testing
@testable import TaskerCore

@Suite struct MermaidDiagramTests {
    @Test func diamondListsNodesThenEdgesInTopologicalOrder() throws {
        let graph = try WorkflowGraph.build([
            (name: "start", dependsOn: []), (name: "left", dependsOn: ["start"]),
            (name: "right", dependsOn: ["start"]), (name: "join", dependsOn: ["left", "right"]),
        ])
        #expect(MermaidDiagram(graph).text == """
            flowchart TD
                s0["start"]
                s1["left"]
                s2["right"]
                s3["join"]
                s0 --> s1
                s0 --> s2
                s1 --> s3
                s2 --> s3
            """)
    }

    @Test func labelsThatWouldBreakTheSyntaxAreEscaped() throws {
        let graph = try WorkflowGraph.build([(name: "a\"b<c>#d\ne", dependsOn: [])])
        #expect(MermaidDiagram(graph).text == "flowchart TD\n    s0[\"a#quot;b#lt;c#gt;#35;d e\"]")
        #expect(MermaidDiagram(graph, labels: ["x (handler)"]).text == "flowchart TD\n    s0[\"x (handler)\"]")
    }
}
