import Synchronization
@testable import TaskerTimers
import Testing

/// The shared timers of ``TimerQueue``: order, cancellation, re-arming for an earlier deadline,
/// the sleeping task's end, and that cancelled timers do not pile up.
@Suite struct TimerQueueTests {
    /// Collects the labels of fired timers, in firing order.
    final class Fired: Sendable {
        let labels = Mutex<[String]>([])
        func record(_ label: String) { labels.withLock { $0.append(label) } }
        var all: [String] { labels.withLock { $0 } }
    }

    static func wait(until condition: () -> Bool, within limit: Duration = .seconds(5)) async {
        let end = ContinuousClock.now.advanced(by: limit)
        while !condition(), ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(5)) }
    }

    @Test func timersFireInDeadlineOrderAndNotEarly() async {
        let queue = TimerQueue()
        let fired = Fired()
        let start = ContinuousClock.now
        let firedAt = Mutex<[String: ContinuousClock.Instant]>([:])
        for (label, ms) in [("c", 90), ("a", 30), ("b", 60)] {
            queue.schedule(at: start.advanced(by: .milliseconds(ms))) {
                firedAt.withLock { $0[label] = .now }
                fired.record(label)
            }
        }
        await Self.wait { fired.all.count == 3 }
        #expect(fired.all == ["a", "b", "c"])
        for (label, ms) in [("a", 30), ("b", 60), ("c", 90)] {
            let at = firedAt.withLock { $0[label] }
            #expect(at.map { $0 >= start.advanced(by: .milliseconds(ms)) } == true, "\(label) fired before its deadline")
        }
        #expect(queue.pending == 0)
    }

    @Test func aCancelledTimerNeverFires() async {
        let queue = TimerQueue()
        let fired = Fired()
        let cancelled = queue.schedule(after: .milliseconds(20)) { fired.record("cancelled") }
        queue.schedule(after: .milliseconds(40)) { fired.record("kept") }
        #expect(queue.cancel(cancelled))
        #expect(!queue.cancel(cancelled), "a second cancel finds nothing")
        await Self.wait { fired.all.count == 1 }
        try? await Task.sleep(for: .milliseconds(50))
        #expect(fired.all == ["kept"])
    }

    @Test func cancellingAFiredTimerSaysSo() async {
        let queue = TimerQueue()
        let fired = Fired()
        let timer = queue.schedule(after: .milliseconds(5)) { fired.record("x") }
        await Self.wait { fired.all.count == 1 }
        #expect(!queue.cancel(timer))
    }

    @Test func anEarlierTimerWakesTheQueueSleepingForALaterOne() async {
        let queue = TimerQueue()
        let fired = Fired()
        queue.schedule(after: .seconds(30)) { fired.record("late") }
        await Self.wait { queue.isSleeping }
        let start = ContinuousClock.now
        queue.schedule(after: .milliseconds(20)) { fired.record("early") }
        await Self.wait { fired.all.count == 1 }
        #expect(fired.all == ["early"])
        #expect(ContinuousClock.now - start < .seconds(5), "fired long before the 30 s timer it slept for")
        #expect(queue.pending == 1)
    }

    @Test func theSleepingTaskEndsWhenNoTimerIsLeftAndComesBack() async {
        let queue = TimerQueue()
        let fired = Fired()
        queue.schedule(after: .milliseconds(10)) { fired.record("1") }
        await Self.wait { fired.all.count == 1 && !queue.isSleeping }
        #expect(!queue.isSleeping)
        queue.schedule(after: .milliseconds(10)) { fired.record("2") }
        #expect(queue.isSleeping)
        await Self.wait { fired.all.count == 2 }
        #expect(fired.all == ["1", "2"])
    }

    @Test func cancelledTimersDoNotPileUp() {
        let queue = TimerQueue()
        for _ in 0..<10_000 {
            let timer = queue.schedule(after: .seconds(3_600)) {}
            queue.cancel(timer)
        }
        #expect(queue.pending == 0)
        #expect(queue.heapCount <= 130, "the heap keeps at most twice the live timers, plus a small slack")
    }

    @Test func manyTasksSchedulingAndCancellingAtOnceFireExactlyTheKeptOnes() async {
        let queue = TimerQueue()
        let counter = Counter()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<2_000 {
                group.addTask {
                    let timer = queue.schedule(after: .milliseconds(Int64(index % 50))) { counter.value.add(1, ordering: .relaxed) }
                    if index % 2 == 0 { queue.cancel(timer) }
                }
            }
        }
        await Self.wait { counter.value.load(ordering: .relaxed) >= 1_000 && queue.pending == 0 }
        try? await Task.sleep(for: .milliseconds(100))
        #expect(counter.value.load(ordering: .relaxed) == 1_000)
    }

    final class Counter: Sendable {
        let value = Atomic(0)
    }
}
