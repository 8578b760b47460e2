internal import Synchronization

/// A queue that hands out everything buffered at once (up to a limit), so a consumer that is
/// busy with one batch finds the next one waiting: the batch size follows the load, one
/// element when idle and many under pressure.
final class BatchBuffer<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var finished = false
        var waiter: CheckedContinuation<[Element]?, Never>?
    }

    private let state = Mutex(State())

    /// Adds an element; wakes the waiting consumer. Ignored once finished.
    func append(_ element: Element) {
        let resume: (CheckedContinuation<[Element]?, Never>, [Element])? = state.withLock { state in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, [element])
            }
            state.items.append(element)
            return nil
        }
        if let (waiter, batch) = resume { waiter.resume(returning: batch) }
    }

    /// No more elements will be taken: a waiting consumer gets `nil`; buffered elements are dropped
    /// (the caller returns them to their source, e.g. by closing the AMQP channel).
    func finish() {
        let waiter: CheckedContinuation<[Element]?, Never>? = state.withLock { state in
            state.finished = true
            state.items.removeAll()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Up to `limit` buffered elements, waiting for at least one; `nil` once finished.
    /// One consumer at a time.
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
                precondition(state.waiter == nil, "BatchBuffer supports one consumer")
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
