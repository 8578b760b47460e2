import Foundation
import Testing
import TaskerCore

@Suite struct ViabilityTests {
    let now = Date(timeIntervalSince1970: 1_000_000)

    func viable(_ step: StepSnapshot, parents: [StepState] = [], task: TaskState = .inProgress) -> Bool {
        StepViability.isViable(step, parentStates: parents, taskState: task, now: now)
    }

    @Test func rootPendingStepIsViableOnlyWhileTaskRuns() {
        #expect(viable(StepSnapshot(state: .pending)))
        for task in TaskState.allCases where task != .inProgress {
            #expect(!viable(StepSnapshot(state: .pending), task: task))
        }
    }

    @Test func everyParentMustBeDone() {
        #expect(viable(StepSnapshot(state: .pending), parents: [.complete, .resolvedManually]))
        for other in StepState.allCases where !other.satisfiesDependents {
            #expect(!viable(StepSnapshot(state: .pending), parents: [.complete, other]))
        }
    }

    @Test func onlyPendingOrDueRetriesAreViable() {
        for state in StepState.allCases where state != .pending && state != .waitingForRetry {
            #expect(!viable(StepSnapshot(state: state)))
        }
        let due = StepSnapshot(state: .waitingForRetry, attempts: 1, nextRetryAt: now)
        let notYet = StepSnapshot(state: .waitingForRetry, attempts: 1, nextRetryAt: now.addingTimeInterval(0.001))
        #expect(viable(due))
        #expect(!viable(notYet))
        #expect(!viable(StepSnapshot(state: .waitingForRetry, attempts: 1, nextRetryAt: nil)))
    }

    @Test(arguments: [
        // (maxAttempts, retryable, attempts, viable)
        (0, true, 0, true), (0, false, 0, true), (1, true, 0, true), (1, true, 1, false),
        (3, true, 1, true), (3, true, 2, true), (3, true, 3, false), (3, false, 1, false), (3, false, 0, true),
    ])
    func retryBoundaries(maxAttempts: Int, retryable: Bool, attempts: Int, expected: Bool) {
        let policy = RetryPolicy(retryable: retryable, maxAttempts: maxAttempts)
        let state: StepState = attempts == 0 ? .pending : .waitingForRetry
        let step = StepSnapshot(state: state, attempts: attempts, retry: policy, nextRetryAt: now)
        #expect(viable(step) == expected)
    }

    @Test func viableStepsCanBeLimitedToCandidates() throws {
        let graph = try Fixtures.graph([("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"])])
        let steps = [StepSnapshot(state: .complete), StepSnapshot(state: .pending), StepSnapshot(state: .pending), StepSnapshot(state: .pending)]
        #expect(StepViability.viableSteps(steps, graph: graph, taskState: .inProgress, now: now) == [1, 2])
        #expect(StepViability.viableSteps(steps, graph: graph, taskState: .inProgress, now: now, among: [2, 3]) == [2])
    }
}
