internal import Synchronization

/// A queue that hands out everything buffered at once (up to a limit), so a consumer that is
/// busy with one batch finds the next one waiting: the batch size follows the load, one
/// element when idle and many under pressure. Several consumers may wait at once; each element
/// goes to the consumer that waited longest.
final class BatchBuffer<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var finished = false
        var waiters: [CheckedContinuation<[Element]?, Never>] = []
    }

    private let state = Mutex(State())

    /// Adds an element; wakes the consumer that waited longest. Ignored once finished.
    func append(_ element: Element) {
        let waiter: CheckedContinuation<[Element]?, Never>? = state.withLock { state in
            guard !state.finished else { return nil }
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.items.append(element)
            return nil
        }
        waiter?.resume(returning: [element])
    }

    /// No more elements will be taken: waiting consumers get `nil`; buffered elements are dropped
    /// (the caller returns them to their source, e.g. by closing the AMQP channel).
    func finish() {
        let waiters: [CheckedContinuation<[Element]?, Never>] = state.withLock { state in
            state.finished = true
            state.items.removeAll()
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// Up to `limit` buffered elements, waiting for at least one; `nil` once finished.
    func next(limit: Int) async -> [Element]? {
        await withCheckedContinuation { continuation in
            let ready: [Element]?? = state.withLock { state in
                if state.finished { return .some(nil) }
                if !state.items.isEmpty {
                    let count = min(limit, state.items.count)
                    let batch = Array(state.items.prefix(count))
                    state.items.removeFirst(count)
                    return .some(batch)
                }
                state.waiters.append(continuation)
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
