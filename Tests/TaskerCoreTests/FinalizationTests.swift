import Foundation
import Testing
import TaskerCore

@Suite struct FinalizationTests {
    let now = Date(timeIntervalSince1970: 5_000)
    // start -> {b, c} -> end, plus an independent branch x -> y
    let graph = try! Fixtures.graph([("start", []), ("b", ["start"]), ("c", ["start"]), ("end", ["b", "c"]), ("x", []), ("y", ["x"])])

    func decide(_ states: [StepState], retryAt: [Int: Date] = [:], attempts: [Int: Int] = [:]) -> FinalizationDecision {
        let steps = states.enumerated().map { index, state in
            StepSnapshot(state: state, attempts: attempts[index] ?? (state == .pending ? 0 : 1), nextRetryAt: retryAt[index])
        }
        return FinalizationDecision.evaluate(steps: steps, graph: graph, taskState: .inProgress, now: now)
    }

    @Test func allDoneIsComplete() {
        #expect(decide([.complete, .complete, .resolvedManually, .complete, .complete, .complete]) == .complete)
    }

    @Test func rootsAreDispatchedFirst() {
        #expect(decide([.pending, .pending, .pending, .pending, .pending, .pending]) == .dispatch([0, 4]))
    }

    @Test func childrenBecomeViableWhenParentsComplete() {
        #expect(decide([.complete, .complete, .inProgress, .pending, .complete, .complete]) == .wait)
        #expect(decide([.complete, .complete, .complete, .pending, .complete, .complete]) == .dispatch([3]))
    }

    @Test func dueRetryIsDispatchedAndFutureRetryIsScheduled() {
        let later = now.addingTimeInterval(3)
        let soon = now.addingTimeInterval(1)
        #expect(decide([.complete, .waitingForRetry, .complete, .pending, .complete, .complete], retryAt: [1: now]) == .dispatch([1]))
        #expect(decide([.complete, .waitingForRetry, .waitingForRetry, .pending, .complete, .complete], retryAt: [1: later, 2: soon])
            == .scheduleRetry(at: soon))
    }

    @Test func activeStepsMeanWaitEvenWithARetryPending() {
        #expect(decide([.complete, .waitingForRetry, .enqueued, .pending, .complete, .complete], retryAt: [1: now.addingTimeInterval(5)]) == .wait)
    }

    @Test func permanentFailureBlocksOnlyDescendants() {
        // b failed for good; c and the independent branch can still run.
        #expect(decide([.complete, .error, .pending, .pending, .pending, .pending]) == .dispatch([2, 4]))
        #expect(decide([.complete, .error, .complete, .pending, .complete, .inProgress]) == .wait)
        #expect(decide([.complete, .error, .complete, .pending, .complete, .complete]) == .error)
    }

    @Test func exhaustedRetriesCountAsFailure() {
        var steps = (0..<6).map { _ in StepSnapshot(state: .complete) }
        steps[3] = StepSnapshot(state: .waitingForRetry, attempts: 3, retry: RetryPolicy(maxAttempts: 3), nextRetryAt: now)
        #expect(FinalizationDecision.evaluate(steps: steps, graph: graph, taskState: .inProgress, now: now) == .error)
    }
}

@Suite struct TaskProgressTests {
    @Test func outcomes() {
        #expect(TaskProgress(total: 4, done: 4, failed: 0, active: 0).outcome == .complete)
        #expect(TaskProgress(total: 4, done: 2, failed: 1, active: 1).outcome == .running)
        #expect(TaskProgress(total: 4, done: 2, failed: 0, active: 2).outcome == .running)
        #expect(TaskProgress(total: 4, done: 2, failed: 1, active: 0).outcome == .failed)
        #expect(TaskProgress(total: 6, done: 3, failed: 1, active: 0).outcome == .failed)
    }
}
