import Foundation
import Testing
import TaskerCore

@Suite struct IdentityTests {
    let key = TemplateKey(namespace: "examples", name: "linear", version: SemanticVersion(1, 0, 0))

    @Test func strictHashIgnoresKeyOrderButNotValues() throws {
        let a = try TaskIdentity.hash(strategy: .strict, template: key, context: ["a": 1, "b": [1, 2]], idempotencyKey: nil)
        let b = try TaskIdentity.hash(strategy: .strict, template: key, context: ["b": [1, 2], "a": 1], idempotencyKey: nil)
        let c = try TaskIdentity.hash(strategy: .strict, template: key, context: ["a": 2, "b": [1, 2]], idempotencyKey: nil)
        var otherVersion = key
        otherVersion.version = SemanticVersion(1, 0, 1)
        let d = try TaskIdentity.hash(strategy: .strict, template: otherVersion, context: ["a": 1, "b": [1, 2]], idempotencyKey: nil)
        #expect(a == b)
        #expect(a != c)
        #expect(a != d)
        // Known answer: SHA-256 of "examples/linear/1.0.0\n{\"a\":1}".
        let known = try TaskIdentity.hash(strategy: .strict, template: key, context: ["a": 1], idempotencyKey: nil)
        #expect(known == Digest.sha256Hex(Data("examples/linear/1.0.0\n{\"a\":1}".utf8)))
        #expect(Digest.sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func callerProvidedNeedsAKey() throws {
        #expect(throws: TaskIdentity.MissingKey.self) {
            try TaskIdentity.hash(strategy: .callerProvided, template: key, context: [:], idempotencyKey: nil)
        }
        let a = try TaskIdentity.hash(strategy: .callerProvided, template: key, context: ["x": 1], idempotencyKey: "k1")
        let b = try TaskIdentity.hash(strategy: .callerProvided, template: key, context: ["x": 2], idempotencyKey: "k1")
        #expect(a != nil && a == b)
    }

    @Test func alwaysUniqueNeverDeduplicates() throws {
        #expect(try TaskIdentity.hash(strategy: .alwaysUnique, template: key, context: [:], idempotencyKey: "k") == nil)
    }
}

@Suite struct TaskRequestTests {
    @Test func decodesEveryField() throws {
        let body = #"""
            {"namespace":"examples","name":"linear","version":"1.0.0","context":{"even_number":2},
             "initiator":"me","source_system":"shop","reason":"test","tags":["a","b"],"idempotency_key":"k","priority":5}
            """#
        let request = try TaskRequest.decode(Data(body.utf8))
        #expect(request == TaskRequest(
            namespace: "examples", name: "linear", version: SemanticVersion(1, 0, 0), context: ["even_number": 2],
            initiator: "me", sourceSystem: "shop", reason: "test", tags: ["a", "b"], idempotencyKey: "k", priority: 5))
        #expect(try TaskRequest.decode(request.json) == request)
    }

    @Test func collectsEveryProblem() {
        #expect(throws: RequestRejection([
            "unknown field 'colour'", "'namespace' is required", "'name' must be a string, got integer",
            "'version' must be a semantic version like 1.0.0, got 'latest'", "'context' must be a JSON object, got array",
            "'priority' must be an integer, got string",
        ])) {
            try TaskRequest.decode(Data(#"{"colour":1,"name":3,"version":"latest","context":[],"priority":"high"}"#.utf8))
        }
    }

    @Test func malformedAndOversizedBodiesAreRejected() {
        #expect(throws: RequestRejection.self) { try TaskRequest.decode(Data("not json".utf8)) }
        #expect(throws: RequestRejection(["request must be a JSON object, got array"])) { try TaskRequest.decode(Data("[]".utf8)) }
        let huge = Data(repeating: 0x20, count: TaskRequest.maxBodyBytes + 1)
        #expect(throws: RequestRejection(limit: InputLimit.taskRequestBody.exceeded(by: huge.count))) {
            try TaskRequest.decode(huge)
        }
    }

    @Test func plannerValidatesContextAndBuildsEdges() throws {
        let template = try TemplateLoader().load(contentsOf: Fixtures.examplesDirectory.appendingPathComponent("diamond.yaml"))
        var counter: UInt8 = 0
        let makeID = { () -> UUID in
            counter += 1
            return UUID(uuid: (counter, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        }
        let plan = try TaskPlanner.plan(TaskRequest(namespace: "examples", name: "diamond", context: ["even_number": 2]), template: template, makeID: makeID)
        #expect(plan.steps.map(\.name) == ["start", "branch_b", "branch_c", "end"])
        #expect(plan.edges.count == 4)
        let names = Dictionary(uniqueKeysWithValues: plan.steps.map { ($0.id, $0.name) })
        #expect(Set(plan.edges.map { "\(names[$0.parent]!)->\(names[$0.child]!)" }) == ["start->branch_b", "start->branch_c", "branch_b->end", "branch_c->end"])
        #expect(plan.identityHash != nil)
        #expect(throws: RequestRejection(["context $.even_number expected integer, got string"])) {
            try TaskPlanner.plan(TaskRequest(namespace: "examples", name: "diamond", context: ["even_number": "2"]), template: template, makeID: makeID)
        }
    }
}
