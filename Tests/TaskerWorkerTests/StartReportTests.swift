import Synchronization
import TaskerTimers
import Testing
@testable import TaskerWorker

/// ``StartReport``: when a step's `step.started` goes out. Pure: the publish is a counter
/// (`WorkerServiceTests.publishesStartedThenCompleted` checks it against the broker).
@Suite struct StartReportTests {
    struct PublishFailed: Error {}

    @Test func withNoDelayEveryStartIsReportedEvenIfTheHandlerFinishesAtOnce() async {
        let published = Mutex(0)
        let report = StartReport(after: .zero, timers: TimerQueue()) { published.withLock { $0 += 1 } }
        let failure = await report.finish()
        #expect(failure == nil)
        #expect(published.withLock { $0 } == 1)
    }

    @Test func aHandlerThatFinishesBeforeTheDelayIsNotReportedAndItsTimerIsGone() async {
        let timers = TimerQueue()
        let published = Mutex(0)
        let report = StartReport(after: .seconds(60), timers: timers) { published.withLock { $0 += 1 } }
        #expect(timers.pending == 1)
        #expect(await report.finish() == nil)
        #expect(published.withLock { $0 } == 0)
        #expect(timers.pending == 0)
    }

    @Test func aHandlerStillRunningAfterTheDelayIsReportedOnceAndFinishWaitsForIt() async throws {
        let published = Mutex(0)
        let report = StartReport(after: .milliseconds(10), timers: TimerQueue()) {
            try await Task.sleep(for: .milliseconds(50))  // the broker's confirm
            published.withLock { $0 += 1 }
        }
        try await Task.sleep(for: .milliseconds(200))  // the handler runs past the delay
        #expect(await report.finish() == nil)
        #expect(published.withLock { $0 } == 1)
    }

    @Test func aFailedReportIsReturnedByFinish() async {
        let report = StartReport(after: .zero, timers: TimerQueue()) { throw PublishFailed() }
        #expect(await report.finish() is PublishFailed)
    }
}
