import Foundation
import Testing
import TaskerCore

@Suite struct ReferenceTemplatesTests {
    @Test func allFiveReferenceWorkflowsLoad() throws {
        let results = try TemplateLoader().loadDirectory(Fixtures.examplesDirectory)
        let templates = try results.map { try $0.result.get() }
        #expect(templates.map(\.name).sorted() == ["api_integration", "diamond", "linear", "mixed_dag", "tree"])
        #expect(templates.allSatisfy { $0.namespace == "examples" })
    }

    static let shapes: [String: [(String, [String])]] = [
        "linear": [("step_1", []), ("step_2", ["step_1"]), ("step_3", ["step_2"]), ("step_4", ["step_3"])],
        "diamond": [("start", []), ("branch_b", ["start"]), ("branch_c", ["start"]), ("end", ["branch_b", "branch_c"])],
        "tree": [
            ("root", []), ("branch_l", ["root"]), ("branch_r", ["root"]), ("leaf_d", ["branch_l"]), ("leaf_e", ["branch_l"]),
            ("leaf_f", ["branch_r"]), ("leaf_g", ["branch_r"]), ("final", ["leaf_d", "leaf_e", "leaf_f", "leaf_g"]),
        ],
        "mixed_dag": [
            ("init", []), ("left", ["init"]), ("right", ["init"]), ("validate", ["left", "right"]), ("transform", ["left"]),
            ("analyze", ["right"]), ("finalize", ["validate", "transform", "analyze"]),
        ],
        "api_integration": [
            ("fetch_cart", []), ("fetch_products", []), ("validate_products", ["fetch_cart", "fetch_products"]),
            ("create_order", ["validate_products"]), ("publish_event", ["create_order"]),
        ],
    ]

    @Test(arguments: ["linear", "diamond", "tree", "mixed_dag", "api_integration"])
    func referenceShapes(name: String) throws {
        let expected = try #require(Self.shapes[name])
        let template = try TemplateLoader().load(contentsOf: Fixtures.examplesDirectory.appendingPathComponent("\(name).yaml"))
        let shape = template.steps.map { ($0.name, $0.dependsOn.sorted()) }
        #expect(shape.map(\.0) == expected.map(\.0))
        #expect(shape.map(\.1) == expected.map { $0.1.sorted() })
    }

    @Test func testEnvironmentShortensBackoff() throws {
        let url = Fixtures.examplesDirectory.appendingPathComponent("diamond.yaml")
        let test = try TemplateLoader(environment: "test").load(contentsOf: url)
        #expect(test.steps.allSatisfy { $0.retry.backoff.baseSeconds == 0.2 && $0.retry.backoff.maxSeconds == 2 })
    }

    @Test func apiIntegrationRequiresIntegerCartID() throws {
        let url = Fixtures.examplesDirectory.appendingPathComponent("api_integration.yaml")
        let schema = try #require(try TemplateLoader().load(contentsOf: url).contextSchema)
        #expect(schema.validate(["cart_id": 42]).isEmpty)
        #expect(schema.validate(["cart_id": "42"]).map(\.description) == ["$.cart_id expected integer, got string"])
        #expect(schema.validate([:]).map(\.description) == ["$.cart_id is required"])
    }
}
