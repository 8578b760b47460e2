import Testing
import TaskerCore

@Suite struct StateMachineTests {
    static let stepAllowed: Set<[StepState]> = [
        [.pending, .enqueued], [.pending, .cancelled], [.pending, .resolvedManually],
        [.enqueued, .inProgress], [.enqueued, .cancelled],
        [.inProgress, .complete], [.inProgress, .waitingForRetry], [.inProgress, .error], [.inProgress, .cancelled],
        [.waitingForRetry, .enqueued], [.waitingForRetry, .cancelled], [.waitingForRetry, .resolvedManually],
        [.error, .pending], [.error, .resolvedManually],
    ]

    @Test func stepTableIsExactlyTheDocumentedOne() throws {
        for from in StepState.allCases {
            for to in StepState.allCases where from != to {
                let expected = Self.stepAllowed.contains([from, to])
                #expect(StepState.machine.canTransition(from: from, to: to) == expected, "\(from) -> \(to)")
                if expected {
                    #expect(try StepState.machine.decide(from: from, to: to) == .apply)
                } else {
                    #expect(throws: TransitionError(entity: "step", from: from.rawValue, to: to.rawValue)) {
                        try StepState.machine.decide(from: from, to: to)
                    }
                }
            }
        }
    }

    @Test func sameStateIsAnIdempotentNoOp() throws {
        for state in StepState.allCases { #expect(try StepState.machine.decide(from: state, to: state) == .noChange) }
        for state in TaskState.allCases { #expect(try TaskState.machine.decide(from: state, to: state) == .noChange) }
    }

    @Test func taskTable() throws {
        let allowed: Set<[TaskState]> = [
            [.pending, .inProgress], [.pending, .cancelled], [.inProgress, .complete], [.inProgress, .error],
            [.inProgress, .cancelled], [.error, .pending], [.error, .resolvedManually],
        ]
        for from in TaskState.allCases {
            for to in TaskState.allCases where from != to {
                #expect(TaskState.machine.canTransition(from: from, to: to) == allowed.contains([from, to]), "\(from) -> \(to)")
            }
        }
    }

    @Test func refusalNamesBothStates() {
        let error = TransitionError(entity: "step", from: "complete", to: "enqueued")
        #expect(error.description == "step cannot transition from 'complete' to 'enqueued'")
        #expect(StepState.machine.sources(of: .enqueued).sorted { $0.rawValue < $1.rawValue } == [.pending, .waitingForRetry])
    }

    @Test func rawValuesAreTheWireNames() {
        #expect(StepState.allCases.map(\.rawValue) == [
            "pending", "enqueued", "in_progress", "complete", "waiting_for_retry", "error", "cancelled", "resolved_manually",
        ])
        #expect(TaskState.inProgress.rawValue == "in_progress")
    }
}

@Suite struct TaskStateNameTests {
    @Test func namesBecomeStatesInOrderAndTheFirstUnknownNameIsReported() throws {
        #expect(try TaskState.named(["error", "in_progress"]) == [.error, .inProgress])
        #expect(try TaskState.named([String]()) == [])
        #expect(throws: TaskState.UnknownName.self) { try TaskState.named(["error", "broken", "nope"]) }
        do {
            _ = try TaskState.named(["error", "broken", "nope"])
        } catch {
            #expect(error.name == "broken")
            #expect(error.description.hasPrefix("unknown state 'broken' (one of pending, in_progress,"))
        }
    }
}
