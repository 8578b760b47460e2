import Synchronization
import TaskerCore

/// Publishes a worker's step results, sending the ones that finish while a message waits for
/// the broker's confirm together, as one `step.results` message (``StepResultBatch``).
///
/// One message is in flight at a time. A result that finds none in flight is published at
/// once, alone, by the task that reports it: an idle worker adds nothing to a step's latency.
/// A result that finds one in flight waits; once that message is confirmed (or failed), the
/// results that waited meanwhile, up to ``maxBatch``, go out as one message, published by the
/// first of them. So a busy worker sends a message per confirm round trip instead of one per
/// step, and the broker, the finalizer's consumer and the acknowledgements do that much less work.
///
/// Each caller returns once the broker confirmed the message that carried its result, and
/// throws what the publish threw otherwise (its dispatch is then returned for redelivery).
final class ResultBatcher: Sendable {
    /// The most results one message carries.
    let maxBatch: Int
    private let send: @Sendable ([StepResultBatch.Entry]) async throws -> Void
    private let state = Mutex(State())

    /// - Parameters:
    ///   - maxBatch: The most results per message (at least 1).
    ///   - send: Publishes the entries as one message and returns once the broker confirmed it.
    init(maxBatch: Int, send: @escaping @Sendable ([StepResultBatch.Entry]) async throws -> Void) {
        self.maxBatch = max(1, maxBatch)
        self.send = send
    }

    /// Results waiting for the message in flight.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    private struct State {
        var inFlight = false
        var waiting: [Waiting] = []
    }

    /// A result waiting for the message in flight, and how to tell its caller what became of it.
    private struct Waiting: Sendable {
        var entry: StepResultBatch.Entry
        var continuation: CheckedContinuation<Turn, Never>
    }

    /// What a waiting caller is told.
    private enum Turn: Sendable {
        /// Its result went out with someone else's message, which the broker confirmed.
        case published
        /// That message failed.
        case failed(any Error)
        /// Its turn to publish: its own result and these.
        case lead([Waiting])
    }

    /// Publishes `entry`, alone or with others, and returns once the broker confirmed it.
    func publish(_ entry: StepResultBatch.Entry) async throws {
        let leadsNow = state.withLock { state in
            guard !state.inFlight else { return false }
            state.inFlight = true
            return true
        }
        if leadsNow { return try await lead(entry, with: []) }
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let leads = state.withLock { state in
                // The message in flight may have been confirmed since the first look.
                guard state.inFlight else {
                    state.inFlight = true
                    return true
                }
                state.waiting.append(Waiting(entry: entry, continuation: continuation))
                return false
            }
            if leads { continuation.resume(returning: .lead([])) }
        }
        switch turn {
        case .published: return
        case .failed(let error): throw error
        case .lead(let others): try await lead(entry, with: others)
        }
    }

    /// Publishes `entry` and `others` as one message, tells the others, and hands the next
    /// message to the first of the results that waited meanwhile.
    private func lead(_ entry: StepResultBatch.Entry, with others: [Waiting]) async throws {
        var failure: (any Error)?
        do {
            try await send([entry] + others.map(\.entry))
        } catch {
            failure = error
        }
        for other in others { other.continuation.resume(returning: failure.map(Turn.failed) ?? .published) }
        handOver()
        if let failure { throw failure }
    }

    /// Leaves the next message to the oldest waiting result, or marks nothing in flight.
    private func handOver() {
        let next: [Waiting]? = state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.inFlight = false
                return nil
            }
            let count = min(maxBatch, state.waiting.count)
            let next = Array(state.waiting.prefix(count))
            state.waiting.removeFirst(count)
            return next
        }
        guard let next, let first = next.first else { return }
        first.continuation.resume(returning: .lead(Array(next.dropFirst())))
    }
}
