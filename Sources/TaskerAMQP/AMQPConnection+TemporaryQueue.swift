extension AMQPConnection {
    /// Declares `queue`, runs `body`, and deletes the queue afterwards, whether `body` returned or
    /// threw (a failed deletion after a failed body is ignored: the body's error is the one thrown).
    func withTemporaryQueue<T: Sendable>(_ queue: AMQPQueue, _ body: () async throws -> T) async throws -> T {
        try await declare(queue)
        let result: T
        do {
            result = try await body()
        } catch {
            try? await deleteQueue(queue.name)
            throw error
        }
        try await deleteQueue(queue.name)
        return result
    }
}
