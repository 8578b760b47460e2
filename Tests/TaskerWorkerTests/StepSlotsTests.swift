import Synchronization
import Testing
@testable import TaskerWorker

/// ``StepSlots``: how many steps hold a slot at once, and when a slot frees. Pure: no broker
/// (`WorkerServiceTests.runsUpToConcurrencyStepsAtOnce` checks the worker's handlers against a real one).
@Suite struct StepSlotsTests {
    func stream(_ items: [Int]) -> AsyncStream<Int> {
        AsyncStream { continuation in
            for item in items { continuation.yield(item) }
            continuation.finish()
        }
    }

    /// Whether `signal` yields within five seconds.
    func signalled(_ signal: AsyncStream<Void>) async -> Bool {
        await withTaskGroup(of: Bool.self) { race in
            race.addTask { await signal.first { _ in true } != nil }
            race.addTask {
                try? await Task.sleep(for: .seconds(5))
                return false
            }
            let first = await race.next() ?? false
            race.cancelAll()
            return first
        }
    }

    @Test func aReleasedSlotStartsTheNextItemWhileTheFirstIsStillRunning() async {
        let (secondStarted, started) = AsyncStream<Void>.makeStream()
        let sawSecondWhileRunning = Mutex(false)
        await StepSlots(limit: 1).run(stream([1, 2]), while: { true }) { item, slot in
            if item == 1 {
                slot.release()  // the handler is done; its result is still being published
                let seen = await signalled(secondStarted)
                sawSecondWhileRunning.withLock { $0 = seen }
            } else {
                started.yield()
            }
        }
        #expect(sawSecondWhileRunning.withLock { $0 })
    }

    @Test func noMoreThanTheLimitHoldASlotAtOnce() async {
        let holding = Mutex((now: 0, peak: 0))
        let finished = Mutex(0)
        await StepSlots(limit: 3).run(stream(Array(0..<20)), while: { true }) { _, slot in
            holding.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            try? await Task.sleep(for: .milliseconds(10))
            holding.withLock { $0.now -= 1 }
            slot.release()
            try? await Task.sleep(for: .milliseconds(10))  // publishing, without a slot
            finished.withLock { $0 += 1 }
        }
        #expect(holding.withLock { $0.peak } == 3)
        #expect(finished.withLock { $0 } == 20, "run returns once every body has ended")
    }

    @Test func aBodyThatNeverReleasesFreesItsSlotWhenItEnds() async {
        let ran = Mutex<[Int]>([])
        await StepSlots(limit: 1).run(stream([1, 2, 3]), while: { true }) { item, _ in
            ran.withLock { $0.append(item) }
        }
        #expect(ran.withLock { $0 } == [1, 2, 3])
    }

    @Test func itemsAfterAStopAreNotStarted() async {
        let ran = Mutex<[Int]>([])
        await StepSlots(limit: 1).run(stream([1, 2, 3]), while: { ran.withLock { $0.isEmpty } }) { item, _ in
            ran.withLock { $0.append(item) }
        }
        #expect(ran.withLock { $0 } == [1])
    }
}
