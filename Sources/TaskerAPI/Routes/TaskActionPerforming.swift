public import TaskerCore

/// The seam between the HTTP API (and the dashboard) and the operator actions (cancel, retry,
/// resolve).
///
/// The action endpoints (`POST /v1/tasks/{task_id}/cancel`, …) validate the request and the
/// caller's `tasks:operate` scope, then call ``perform(_:)`` with the core's
/// ``OperatorCommand`` and answer its ``OperatorOutcome``. `tasker api` passes
/// `OperatorActions` (TaskerServices); tests can pass a performer that records what it was
/// asked. Without a performer (``APIDependencies/actions`` is `nil`) the endpoints answer 501
/// `not_implemented`.
public protocol TaskActionPerforming: Sendable {
    /// Carries out one command, idempotently.
    /// - Throws: only for infrastructure trouble (the client gets a 503 or a 500); every answer
    ///   about the task itself is an ``OperatorOutcome``.
    func perform(_ command: OperatorCommand) async throws -> OperatorOutcome

    /// Carries out several commands in order, each seeing what the earlier ones did; one
    /// outcome per command. `OperatorActions` does them in one transaction (bulk actions).
    func perform(_ commands: [OperatorCommand]) async throws -> [OperatorOutcome]
}

extension TaskActionPerforming {
    /// One command after the other, for performers without a batch of their own.
    public func perform(_ commands: [OperatorCommand]) async throws -> [OperatorOutcome] {
        var outcomes: [OperatorOutcome] = []
        for command in commands { outcomes.append(try await perform(command)) }
        return outcomes
    }
}
