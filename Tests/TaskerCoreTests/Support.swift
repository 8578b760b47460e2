import Foundation
import TaskerCore
import TaskerTestSupport

enum Fixtures {
    /// The repository's `templates/examples` directory.
    static let examplesDirectory = packageRoot.appendingPathComponent("templates/examples")

    static func template(_ yaml: String, environment: String? = nil) throws -> TaskTemplate {
        try TemplateLoader(environment: environment).load(yaml: yaml, file: "test.yaml")
    }

    static func problems(_ yaml: String) -> [TemplateProblem] {
        do {
            _ = try TemplateLoader().load(yaml: yaml, file: "bad.yaml")
            return []
        } catch {
            return error.problems
        }
    }

    static func graph(_ nodes: [(String, [String])]) throws -> WorkflowGraph {
        try WorkflowGraph.build(nodes.map { (name: $0.0, dependsOn: $0.1) })
    }
}
