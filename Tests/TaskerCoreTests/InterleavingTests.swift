import Foundation
import Testing
import TaskerCore
import TaskerTestSupport

/// The whole decision flow (``WorkflowMachine`` over ``InMemoryWorkflowStore``) under chaotic
/// delivery: the same worker reports delivered duplicated, reordered, late, and split into
/// random batches (as several concurrent finalizers take them) must end in the same states,
/// the same results and the same audit trails (up to timestamps) as one sequential run.
@Suite struct InterleavingTests {
    static let templates: [TaskTemplate] = ["diamond", "tree", "mixed_dag", "linear"].map { name in
        let url = Fixtures.examplesDirectory.appendingPathComponent("\(name).yaml")
        return try! TemplateLoader().load(yaml: try! String(contentsOf: url, encoding: .utf8), file: url.path)
    }

    @Test func chaoticDeliveryEndsLikeASequentialRun() async throws {
        for seed in UInt64(1)...2_000 {
            let scenario = Scenario(seed: seed)
            let sequential = await scenario.run(chaotic: false)
            let chaotic = await scenario.run(chaotic: true)
            #expect(chaotic == sequential, "seed \(seed): \(Outcome.difference(chaotic, sequential))")
            if chaotic != sequential { return }
        }
    }

    @Test func theSequentialRunFollowsTheSemantics() async throws {
        // Every task of a scenario without failures completes with x^(2^depth) results.
        var found = 0
        for seed in UInt64(1)...200 {
            let scenario = Scenario(seed: seed)
            guard scenario.failures.isEmpty else { continue }
            found += 1
            let outcome = await scenario.run(chaotic: false)
            for task in outcome.tasks { #expect(task.state == "complete", "seed \(seed)") }
            for step in outcome.tasks.flatMap(\.steps) {
                #expect(step.trail == ["→pending", "pending→enqueued", "enqueued→in_progress", "in_progress→complete"], "seed \(seed) \(step.name)")
            }
        }
        #expect(found > 10)
    }

    @Test func aPermanentFailureBlocksOnlyDescendantsAndFailsTheTask() async throws {
        let diamond = Self.templates[0]
        var store = InMemoryWorkflowStore()
        var ids = IDSource(seed: 7)
        let taskID = ids.next()
        store.startTask(diamond, id: taskID, context: ["even_number": 2], makeID: { ids.next() })
        var generator = SplitMix64(seed: 1)
        let machine = WorkflowMachine(now: Date(timeIntervalSince1970: 1_000), makeEventID: { UUID() })
        var worker = Worker(failures: ["branch_b": .permanent])
        while let reports = worker.work(&store) { await store.recordResults(reports, machine: machine, using: &generator) }
        let states = Dictionary(uniqueKeysWithValues: store.steps.values.map { ($0.name, $0.state) })
        #expect(states == ["start": .complete, "branch_b": .error, "branch_c": .complete, "end": .pending])
        #expect(store.tasks[taskID]?.state == .error)
    }
}

/// How a step fails, if it does (on its first attempt only: retries succeed).
enum Failure: Hashable {
    case permanent
    case retryable
}

/// Deterministic ids.
struct IDSource {
    var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }
    mutating func next() -> UUID {
        let a = generator.next(), b = generator.next()
        return UUID(uuid: (UInt8(truncatingIfNeeded: a), UInt8(truncatingIfNeeded: a >> 8), UInt8(truncatingIfNeeded: a >> 16),
                           UInt8(truncatingIfNeeded: a >> 24), UInt8(truncatingIfNeeded: a >> 32), UInt8(truncatingIfNeeded: a >> 40),
                           UInt8(truncatingIfNeeded: a >> 48), UInt8(truncatingIfNeeded: a >> 56), UInt8(truncatingIfNeeded: b),
                           UInt8(truncatingIfNeeded: b >> 8), UInt8(truncatingIfNeeded: b >> 16), UInt8(truncatingIfNeeded: b >> 24),
                           UInt8(truncatingIfNeeded: b >> 32), UInt8(truncatingIfNeeded: b >> 40), UInt8(truncatingIfNeeded: b >> 48),
                           UInt8(truncatingIfNeeded: b >> 56)))
    }
}

/// Simulated workers: run each dispatch once and report `started` then `completed` (the
/// square of the input) or `failed`.
struct Worker {
    var failures: [String: Failure]
    var next = 0
    static let prime: Int64 = 1_000_000_007

    /// The reports of the next dispatch not yet worked on (or a retry wave), `nil` when idle.
    mutating func work(_ store: inout InMemoryWorkflowStore) -> [StepResultMessage]? {
        if next == store.dispatches.count {
            guard store.steps.values.contains(where: { $0.state == .waitingForRetry }) else { return nil }
            store.reenqueueWaiting()
        }
        let dispatch = store.dispatches[next]
        next += 1
        return reports(for: dispatch, in: store)
    }

    func reports(for dispatch: InMemoryWorkflowStore.Dispatch, in store: InMemoryWorkflowStore) -> [StepResultMessage] {
        let at = Date(timeIntervalSince1970: 1_000)
        let started = StepResultMessage(
            kind: .started, taskID: dispatch.taskID, stepID: dispatch.stepID, stepName: dispatch.stepName,
            attempt: dispatch.attempt, workerID: "w", occurredAt: at)
        if let failure = failures[dispatch.stepName], dispatch.attempt == 1 {
            return [started, StepResultMessage(
                kind: .failed, taskID: dispatch.taskID, stepID: dispatch.stepID, stepName: dispatch.stepName,
                attempt: dispatch.attempt, workerID: "w", occurredAt: at, errorMessage: "injected",
                errorKind: failure == .permanent ? .permanent : .retryable)]
        }
        let step = store.steps[dispatch.stepID]!
        let input: Int64 = step.parents.isEmpty
            ? (store.tasks[dispatch.taskID]!.context["even_number"]?.intValue ?? 0) % Self.prime
            : step.parents.reduce(Int64(1)) { ($0 * (store.steps[$1]!.results?["value"]?.intValue ?? 0)) % Self.prime }
        return [started, StepResultMessage(
            kind: .completed, taskID: dispatch.taskID, stepID: dispatch.stepID, stepName: dispatch.stepName,
            attempt: dispatch.attempt, workerID: "w", occurredAt: at, results: ["value": .int((input * input) % Self.prime)])]
    }
}

/// One random scenario: a few tasks of the reference templates, some steps failing.
struct Scenario {
    let seed: UInt64
    let tasks: [(template: TaskTemplate, input: Int64)]
    let failures: [String: Failure]

    init(seed: UInt64) {
        self.seed = seed
        var random = SplitMix64(seed: seed)
        tasks = (0..<Int.random(in: 1...3, using: &random)).map { _ in
            (InterleavingTests.templates.randomElement(using: &random)!, Int64.random(in: 1...1_000, using: &random) * 2)
        }
        var failures: [String: Failure] = [:]
        let names = Set(tasks.flatMap { $0.template.steps.map(\.name) }).sorted()
        for name in names where Int.random(in: 0..<6, using: &random) == 0 {
            failures[name] = Bool.random(using: &random) ? .permanent : .retryable
        }
        self.failures = failures
    }

    /// Runs the scenario to quiescence. Sequential: each report delivered once, alone, in order.
    /// Chaotic: reports pile up, some duplicated (also much later), and are delivered in random
    /// batches in random order.
    func run(chaotic: Bool) async -> Outcome {
        var store = InMemoryWorkflowStore()
        var ids = IDSource(seed: seed)
        for task in tasks {
            let id = ids.next()
            store.startTask(task.template, id: id, context: ["even_number": .int(task.input)], makeID: { ids.next() })
        }
        let machine = WorkflowMachine(now: Date(timeIntervalSince1970: 1_000), makeEventID: { UUID() })
        var jitter = SplitMix64(seed: seed ^ 0xABCD)
        var random = SplitMix64(seed: seed &* 31)
        var worker = Worker(failures: failures)
        var inFlight: [StepResultMessage] = []
        var delivered: [StepResultMessage] = []
        while true {
            if !chaotic {
                guard let reports = worker.work(&store) else { break }
                for report in reports { await store.recordResults([report], machine: machine, using: &jitter) }
                continue
            }
            // Chaotic: sometimes produce more reports, sometimes deliver a random batch.
            let produce = inFlight.isEmpty || Int.random(in: 0..<3, using: &random) == 0
            if produce, let reports = worker.work(&store) {
                for report in reports {
                    inFlight.append(report)
                    if Int.random(in: 0..<4, using: &random) == 0 { inFlight.append(report) }
                }
                continue
            }
            if inFlight.isEmpty { break }
            inFlight.shuffle(using: &random)
            let count = Int.random(in: 1...min(6, inFlight.count), using: &random)
            var batch = Array(inFlight.prefix(count))
            inFlight.removeFirst(count)
            // A late redelivery of something already handled.
            if !delivered.isEmpty, Int.random(in: 0..<5, using: &random) == 0 { batch.append(delivered.randomElement(using: &random)!) }
            await store.recordResults(batch, machine: machine, using: &jitter)
            delivered += batch
        }
        return Outcome(store)
    }
}

/// What a run ends with, timestamps and ids aside.
struct Outcome: Equatable {
    struct StepEnd: Equatable {
        var name: String
        var state: String
        var attempts: Int
        var results: JSONValue?
        var trail: [String]
    }
    struct TaskEnd: Equatable {
        var state: String
        var trail: [String]
        var steps: [StepEnd]
    }
    var tasks: [TaskEnd]

    init(_ store: InMemoryWorkflowStore) {
        tasks = store.tasks.values.sorted { $0.id.uuidString < $1.id.uuidString }.map { task in
            TaskEnd(
                state: task.state.rawValue, trail: task.trail.map(\.description),
                steps: task.steps.map { id in
                    let step = store.steps[id]!
                    return StepEnd(name: step.name, state: step.state.rawValue, attempts: step.attempts, results: step.results,
                                   trail: step.trail.map(\.description))
                })
        }
    }

    static func difference(_ a: Outcome, _ b: Outcome) -> String {
        for (x, y) in zip(a.tasks, b.tasks) where x != y {
            if x.state != y.state || x.trail != y.trail { return "task \(x.state) \(x.trail) vs \(y.state) \(y.trail)" }
            for (s, t) in zip(x.steps, y.steps) where s != t { return "step \(s.name): \(s) vs \(t)" }
        }
        return "task count \(a.tasks.count) vs \(b.tasks.count)"
    }
}
