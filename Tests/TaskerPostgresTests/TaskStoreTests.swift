import Foundation
import PostgresNIO
import Testing
import TaskerCore
import TaskerPostgres

@Suite(.timeLimit(.minutes(2))) struct TaskStoreTests {
    @Test(arguments: ["linear", "diamond", "tree", "mixed_dag", "api_integration"])
    func referenceTemplateStoredAndTaskCreatedWithStepsAndEdges(name: String) async throws {
        let base = try TemplateLoader().load(contentsOf: TestPaths.examples.appendingPathComponent("\(name).yaml"))
        var yaml = try String(contentsOf: TestPaths.examples.appendingPathComponent("\(name).yaml"), encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "namespace: examples", with: "namespace: NAMESPACE")
        let template = try uniqueTemplate(yaml)
        try await withStore { store in
            let registration = try await store.registerTemplate(template)
            #expect(registration.created)
            #expect(try await store.registerTemplate(template) == TemplateRegistration(id: registration.id, created: false))

            let context: JSONValue = ["even_number": 2, "cart_id": 7, "nonce": .string(UUID().uuidString)]
            let created = try await store.startTask(try plan(template, context: context), now: Date()).creation
            #expect(!created.duplicate)
            let detail = try await store.fetchTask(created.taskID)
            #expect(detail.task.state == .inProgress)
            #expect(detail.task.context == context)
            #expect(detail.steps.map(\.name) == base.steps.map(\.name))
            // Started: the roots are dispatched, every other step waits for its parents.
            let roots = Set(base.graph.roots.map { base.steps[$0].name })
            #expect(detail.steps.allSatisfy { $0.state == (roots.contains($0.name) ? .enqueued : .pending) && $0.attempts == 0 })
            let nameByID = Dictionary(uniqueKeysWithValues: detail.steps.map { ($0.id, $0.name) })
            for step in detail.steps {
                let expected = try #require(base.step(named: step.name))
                #expect(Set(step.parents.map { nameByID[$0]! }) == Set(expected.dependsOn), "parents of \(step.name)")
                #expect(step.handler == expected.handler)
                #expect(step.retry == expected.retry)
                #expect(step.timeoutSeconds == expected.timeoutSeconds)
                #expect(step.handlerConfig == expected.handlerConfig)
                let trail = try #require(detail.stepTransitions[step.id])
                let expectedTrail = roots.contains(step.name) ? ["pending", "enqueued"] : ["pending"]
                #expect(trail.map(\.toState) == expectedTrail && trail[0].fromState == nil && trail.last!.mostRecent)
            }
            #expect(detail.taskTransitions.map(\.toState) == ["pending", "in_progress"])
        }
    }

    @Test func storedTemplatesLoadBackAndConflictingContentIsRefused() async throws {
        let template = try uniqueTemplate()
        try await withStore { store in
            try await store.registerTemplate(template)
            let loaded = try await store.loadTemplates().first { $0.key == template.key }
            #expect(loaded?.steps == template.steps)
            #expect(loaded?.contentHash == template.contentHash)

            var changed = template
            changed.definition = .object(template.definition.objectValue!.merging(["description": "changed"]) { $1 })
            do {
                try await store.registerTemplate(changed)
                Issue.record("expected a conflict")
            } catch let error as StoreError {
                #expect(error.code == .templateConflict)
            }
        }
    }

    @Test func duplicateIdentityReturnsTheSameTask() async throws {
        let template = try uniqueTemplate()
        try await withStore { store in
            try await store.registerTemplate(template)
            let context: JSONValue = ["even_number": 4, "nonce": .string(UUID().uuidString)]
            let first = try await store.startTask(try plan(template, context: context), now: Date()).creation
            // Same content, keys in another order: same identity, and every racer gets the same id.
            let reordered = try JSONValue.parse(context.canonicalString)
            let racers = try await withThrowingTaskGroup(of: TaskCreation.self) { group in
                for _ in 0..<5 { group.addTask { try await store.startTask(try plan(template, context: reordered), now: Date()).creation } }
                return try await group.reduce(into: [TaskCreation]()) { $0.append($1) }
            }
            #expect(!first.duplicate)
            #expect(racers.allSatisfy { $0.duplicate && $0.taskID == first.taskID })
            let other = try await store.startTask(try plan(template, context: ["even_number": 6, "nonce": .string(UUID().uuidString)]), now: Date()).creation
            #expect(!other.duplicate && other.taskID != first.taskID)
        }
    }

    @Test func alwaysUniqueTemplatesNeverDeduplicate() async throws {
        let template = try uniqueTemplate("name: once\nnamespace: NAMESPACE\nidentity_strategy: always_unique\nsteps:\n  - { name: a, handler: h }\n")
        try await withStore { store in
            try await store.registerTemplate(template)
            let a = try await store.startTask(try plan(template), now: Date()).creation
            let b = try await store.startTask(try plan(template), now: Date()).creation
            #expect(!a.duplicate && !b.duplicate && a.taskID != b.taskID)
        }
    }

    @Test func unregisteredTemplateIsRefused() async throws {
        let template = try uniqueTemplate()
        try await withStore { store in
            do {
                _ = try await store.startTask(try plan(template), now: Date()).creation
                Issue.record("expected templateNotFound")
            } catch let error as StoreError {
                #expect(error.code == .templateNotFound)
            }
        }
    }

    @Test func unknownTaskIsNotFound() async throws {
        try await withStore { store in
            let error = await #expect(throws: StoreError.self) { try await store.fetchTask(UUID()) }
            #expect(error?.code == .notFound)
        }
    }
}
