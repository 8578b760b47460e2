import Foundation
import TaskerCore

/// A deterministic generator for jitter in tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fixtures {
    /// The repository's `templates/examples` directory.
    static let examplesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates/examples")

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
