internal import Synchronization

/// Timers that share one sleeping task.
///
/// A `Task.sleep` per timer costs a task, a registration with the runtime's timer thread and,
/// when the timer is cancelled, another round with that thread. The pipeline set two or three
/// such timers per step (a database call's deadline, a step's timeout, the delay of its
/// `step.started` report), and nearly all of them were cancelled within milliseconds. Here
/// scheduling and cancelling a timer is a lock and a heap operation; one task sleeps until the
/// earliest deadline, and it is replaced only when a timer is scheduled before that deadline
/// (timers of one kind share a duration, so their deadlines come in order and rarely do).
///
/// Actions run on the sleeping task, one after another: keep them short (resume a
/// continuation, cancel a task, start one). A timer fires at its deadline or a little later,
/// never earlier.
public final class TimerQueue: Sendable {
    /// A scheduled timer, to cancel it.
    public struct Timer: Hashable, Sendable {
        fileprivate let id: UInt64
    }

    /// The queue a process shares.
    public static let shared = TimerQueue()

    private let state = Mutex(State())

    public init() {}

    /// Schedules `action` to run at `deadline`.
    @discardableResult
    public func schedule(at deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> Timer {
        state.withLock { state in
            let timer = state.add(deadline: deadline, action: action)
            if state.needsSleeper(for: deadline) { state.replaceSleeper(with: self) }
            return timer
        }
    }

    /// Schedules `action` to run `delay` from now.
    @discardableResult
    public func schedule(after delay: Duration, _ action: @escaping @Sendable () -> Void) -> Timer {
        schedule(at: .now.advanced(by: delay), action)
    }

    /// Cancels `timer`. Returns `false` when it had fired (its action ran or is running) or was
    /// cancelled already.
    @discardableResult
    public func cancel(_ timer: Timer) -> Bool {
        state.withLock { $0.actions.removeValue(forKey: timer.id) != nil }
    }

    /// Timers scheduled and neither fired nor cancelled.
    public var pending: Int { state.withLock { $0.actions.count } }

    /// Whether a task is sleeping for (or about to fire) a timer.
    public var isSleeping: Bool { state.withLock { $0.sleeper != nil } }

    /// Entries in the heap, cancelled ones included (for tests of the compaction).
    var heapCount: Int { state.withLock { $0.heap.count } }

    /// The sleeping task of `generation`: fires what is due, sleeps until the next deadline;
    /// ends when no timer is left or when a newer sleeper replaced it.
    fileprivate func sleep(generation: UInt64) async {
        while true {
            let (due, next) = state.withLock { state in state.takeDue(generation: generation, now: .now) }
            for action in due { action() }
            guard let next else { return }
            do {
                try await Task.sleep(until: next, tolerance: nil, clock: .continuous)
            } catch {
                return  // replaced by a sleeper for an earlier deadline
            }
        }
    }
}

extension TimerQueue {
    /// A timer in the heap. Cancelled timers stay there (their action is gone) until they reach
    /// the top or the heap is compacted.
    fileprivate struct Entry {
        var deadline: ContinuousClock.Instant
        var id: UInt64
    }

    fileprivate struct State {
        /// A binary min-heap by deadline.
        var heap: [Entry] = []
        /// The actions of the timers still pending.
        var actions: [UInt64: @Sendable () -> Void] = [:]
        var lastID: UInt64 = 0
        var sleeper: Task<Void, Never>?
        var generation: UInt64 = 0
        /// What the sleeper sleeps for; `nil` while it has not looked yet.
        var sleepingUntil: ContinuousClock.Instant?

        mutating func add(deadline: ContinuousClock.Instant, action: @escaping @Sendable () -> Void) -> Timer {
            lastID += 1
            actions[lastID] = action
            push(Entry(deadline: deadline, id: lastID))
            // Cancelled entries are dropped when they outnumber the live ones.
            if heap.count > 64 && heap.count > 2 * actions.count { compact() }
            return Timer(id: lastID)
        }

        /// A sleeper is needed when there is none, or when it sleeps past `deadline`.
        func needsSleeper(for deadline: ContinuousClock.Instant) -> Bool {
            guard sleeper != nil else { return true }
            guard let sleepingUntil else { return false }  // it has not looked yet: it will see this timer
            return deadline < sleepingUntil
        }

        mutating func replaceSleeper(with queue: TimerQueue) {
            generation += 1
            sleeper?.cancel()
            sleepingUntil = nil
            let generation = self.generation
            sleeper = Task { await queue.sleep(generation: generation) }
        }

        /// Removes and returns the actions due at `now`, and the deadline to sleep until (`nil`:
        /// nothing is left, or `generation` was replaced; the sleeper ends).
        mutating func takeDue(generation: UInt64, now: ContinuousClock.Instant) -> ([@Sendable () -> Void], ContinuousClock.Instant?) {
            guard generation == self.generation else { return ([], nil) }
            var due: [@Sendable () -> Void] = []
            while let top = heap.first {
                guard let action = actions[top.id] else {
                    popMin()
                    continue
                }
                guard top.deadline <= now else { break }
                popMin()
                actions[top.id] = nil
                due.append(action)
            }
            sleepingUntil = heap.first?.deadline
            if sleepingUntil == nil { sleeper = nil }
            return (due, sleepingUntil)
        }

        private mutating func push(_ entry: Entry) {
            heap.append(entry)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[child].deadline < heap[parent].deadline else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }

        private mutating func popMin() {
            let last = heap.removeLast()
            guard !heap.isEmpty else { return }
            heap[0] = last
            siftDown(from: 0)
        }

        private mutating func siftDown(from start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { return }
                let right = left + 1
                let smaller = right < heap.count && heap[right].deadline < heap[left].deadline ? right : left
                guard heap[smaller].deadline < heap[parent].deadline else { return }
                heap.swapAt(parent, smaller)
                parent = smaller
            }
        }

        private mutating func compact() {
            heap.removeAll { actions[$0.id] == nil }
            for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(from: index) }
        }
    }
}
