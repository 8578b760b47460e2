/// A test waited longer than it allowed.
package struct TestTimeout: Error, CustomStringConvertible {
    package var description: String

    package init(description: String) {
        self.description = description
    }
}

/// Runs `body`, failing with ``TestTimeout`` if it takes longer than `duration`.
package func withTimeout<T: Sendable>(
    _ duration: Duration,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: duration)
            throw TestTimeout(description: "timed out after \(duration): \(what)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Waits until `probe` returns a value, asking every `interval`; fails with ``TestTimeout``
/// after `timeout`.
package func waitFor<T>(
    _ what: String,
    timeout: Duration = .seconds(30),
    every interval: Duration = .milliseconds(10),
    isolation: isolated (any Actor)? = #isolation,
    _ probe: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await probe() { return value }
        guard ContinuousClock.now < deadline else { throw TestTimeout(description: "timed out after \(timeout): \(what)") }
        try await Task.sleep(for: interval)
    }
}

/// Waits until `condition` holds, checking every `interval`; fails with ``TestTimeout`` after `timeout`.
package func eventually(
    _ what: String,
    timeout: Duration = .seconds(30),
    every interval: Duration = .milliseconds(10),
    isolation: isolated (any Actor)? = #isolation,
    _ condition: () async throws -> Bool
) async throws {
    try await waitFor(what, timeout: timeout, every: interval) { try await condition() ? () : nil }
}
