import Synchronization

/// Runs items from a stream with at most ``limit`` of them holding a slot at once.
///
/// An item holds its slot from its start until its body calls ``Slot/release()`` (or ends).
/// A worker's step releases its slot when its handler returns: publishing the result, waiting
/// for the broker's confirm and acknowledging the dispatch run without one, so the next
/// prefetched dispatch starts while the last result is confirmed. Handlers still run at most
/// ``limit`` at once; the steps still publishing are bounded by the consumers' prefetch (a
/// dispatch stays unacknowledged until its result is confirmed).
struct StepSlots {
    let limit: Int

    /// A held slot; releasing it again does nothing.
    final class Slot: Sendable {
        private let released = Mutex(false)
        private let onRelease: @Sendable () -> Void

        init(onRelease: @escaping @Sendable () -> Void) {
            self.onRelease = onRelease
        }

        func release() {
            let first = released.withLock { released in
                defer { released = true }
                return !released
            }
            if first { onRelease() }
        }
    }

    /// Starts `body` for each item of `items` once a slot is free, until the stream ends, the
    /// task is cancelled, or `shouldContinue` (checked after waiting for a slot) says stop.
    /// Returns when every started body has ended.
    func run<Item: Sendable>(
        _ items: AsyncStream<Item>, while shouldContinue: () -> Bool, _ body: @escaping @Sendable (Item, Slot) async -> Void
    ) async {
        let (freed, free) = AsyncStream<Void>.makeStream()
        var freedSlots = freed.makeAsyncIterator()
        await withDiscardingTaskGroup { group in
            var held = 0
            for await item in items {
                if held >= limit {
                    // nil: the task was cancelled; take no more items.
                    guard await freedSlots.next() != nil else { break }
                    held -= 1
                }
                guard shouldContinue() else { break }
                let slot = Slot { free.yield() }
                group.addTask {
                    await body(item, slot)
                    slot.release()
                }
                held += 1
            }
            // Leaving the group waits for the bodies still running.
        }
        free.finish()
    }
}
