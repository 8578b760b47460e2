import Foundation
import TaskerCore
import Testing

@Suite struct StepResultLedgerTests {
    let task = UUID()
    let now = Date(timeIntervalSince1970: 1_000)

    func step(_ state: StepState, attempts: Int = 0, maxAttempts: Int = 3) -> StepResultLedger.Step {
        StepResultLedger.Step(
            id: UUID(), taskID: task, name: "s", state: state, attempts: attempts,
            retry: RetryPolicy(retryable: true, maxAttempts: maxAttempts, backoff: BackoffPolicy(baseSeconds: 1, maxSeconds: 10, jitter: 0)),
            timeoutSeconds: 30, lastSortKey: 2)
    }

    func report(_ kind: StepResultMessage.Kind, _ step: StepResultLedger.Step, attempt: Int = 1) -> StepResultMessage {
        StepResultMessage(
            kind: kind, taskID: task, stepID: step.id, stepName: step.name, attempt: attempt, workerID: "w:1",
            occurredAt: now, startedAt: now.addingTimeInterval(-0.01), results: kind == .completed ? ["v": 1] : nil,
            errorMessage: kind == .failed ? "boom" : nil, errorKind: kind == .failed ? .retryable : nil)
    }

    @Test func startedAndCompletedInOneBatchGiveTheWholeTrailInOrder() {
        let enqueued = step(.enqueued)
        var ledger = StepResultLedger(steps: [enqueued], now: now)
        var generator = SystemRandomNumberGenerator()
        ledger.apply(report(.started, enqueued), using: &generator)
        ledger.apply(report(.completed, enqueued), using: &generator)
        ledger.apply(report(.completed, enqueued), using: &generator)  // redelivered
        #expect(ledger.transitions.map(\.to) == [.inProgress, .complete])
        #expect(ledger.transitions.map(\.sortKey) == [3, 4])
        #expect(ledger.outcomes.prefix(2) == [.applied, .applied])
        guard case .ignored = ledger.outcomes[2] else { Issue.record("duplicate applied"); return }
        #expect(ledger.changedRows.map(\.state) == [.complete])
        #expect(ledger.changedRows.first?.attempts == 1)
        #expect(ledger.completed == [enqueued.id])
        #expect(ledger.tasksToCheck == [task])
        #expect(ledger.events.allSatisfy { $0.missingKeys.isEmpty })
    }

    @Test func completionWithoutAStartReportRecordsTheStartWithItsTime() {
        let enqueued = step(.enqueued)
        var ledger = StepResultLedger(steps: [enqueued], now: now)
        var generator = SystemRandomNumberGenerator()
        ledger.apply(report(.completed, enqueued), using: &generator)
        #expect(ledger.transitions.map(\.to) == [.inProgress, .complete])
        let reported = ledger.transitions.first?.metadata["reported_at"]?.doubleValue ?? 0
        #expect(abs(reported - (now.timeIntervalSince1970 - 0.01)) < 1e-6)
        #expect(ledger.events.map(\.event) == [.stepStarted, .stepCompleted])
    }

    @Test func aRetryableFailureSchedulesARetryAndTheLastAttemptErrors() {
        let running = step(.inProgress, attempts: 1)
        let last = step(.inProgress, attempts: 3)
        var ledger = StepResultLedger(steps: [running, last], now: now)
        var generator = SystemRandomNumberGenerator()
        ledger.apply(report(.failed, running, attempt: 1), using: &generator)
        ledger.apply(report(.failed, last, attempt: 3), using: &generator)
        let rows = Dictionary(uniqueKeysWithValues: ledger.changedRows.map { ($0.id, $0) })
        #expect(rows[running.id]?.state == .waitingForRetry)
        #expect(rows[running.id]?.nextRetryAt == now.addingTimeInterval(1))
        #expect(rows[last.id]?.state == .error)
        #expect(ledger.tasksToCheck == [task])
        #expect(ledger.completed.isEmpty)
        // step.failed carries error_message/kind/class, step.retry_scheduled its time: no missing keys.
        #expect(ledger.events.map(\.event) == [.stepFailed, .stepRetryScheduled, .stepFailed])
        #expect(ledger.events.allSatisfy { $0.missingKeys.isEmpty })
    }

    @Test func aFailedAttemptKeepsHowLongItRanInItsAuditRow() {
        let running = step(.inProgress, attempts: 1)
        var ledger = StepResultLedger(steps: [running], now: now)
        var generator = SystemRandomNumberGenerator()
        var failed = report(.failed, running, attempt: 1)
        failed.durationMs = 12.5
        ledger.apply(failed, using: &generator)
        #expect(ledger.transitions.map(\.to) == [.waitingForRetry])
        #expect(ledger.transitions.first?.metadata["duration_ms"]?.doubleValue == 12.5)
        #expect(ledger.transitions.first?.metadata["error_message"]?.stringValue == "boom")
    }

    @Test func reportsAboutAnotherAttemptOrAnUnknownStepChangeNothing() {
        let running = step(.inProgress, attempts: 2)
        var ledger = StepResultLedger(steps: [running], now: now)
        var generator = SystemRandomNumberGenerator()
        ledger.apply(report(.completed, running, attempt: 1), using: &generator)
        ledger.apply(report(.completed, step(.enqueued)), using: &generator)
        #expect(ledger.transitions.isEmpty && ledger.changedRows.isEmpty && ledger.events.isEmpty)
        #expect(ledger.outcomes.allSatisfy { if case .ignored = $0 { true } else { false } })
    }

    @Test func aReportNamingAnotherTaskChangesNothing() {
        let enqueued = step(.enqueued)
        var ledger = StepResultLedger(steps: [enqueued], now: now)
        var generator = SystemRandomNumberGenerator()
        var stray = report(.completed, enqueued)
        stray.taskID = UUID()
        ledger.apply(stray, using: &generator)
        #expect(ledger.transitions.isEmpty && ledger.changedRows.isEmpty)
        guard case .ignored(let reason) = ledger.outcomes.first else { Issue.record("applied"); return }
        #expect(reason.contains("belongs to task"))
    }
}
