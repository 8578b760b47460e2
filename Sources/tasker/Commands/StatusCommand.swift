import ArgumentParser
import Foundation
import TaskerRuntime
import Logging
import TaskerCore
import TaskerPostgres

/// `tasker status <task-id> [--json]`.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a task: its state, each step's state, attempts and result, and the transition history."
    )
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The task id.") var taskID: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard let id = UUID(uuidString: taskID) else { throw ValidationError("not a task id: \(taskID)") }
        let logger = logging.makeLogger(label: "tasker.status", default: .warning)
        let detail = try await database.withDatabase(logger: logger) { database in
            try await PostgresStore(database: database, logger: logger).fetchTask(id)
        }
        if json {
            print(TaskReport(detail).json.canonicalString)
        } else {
            print(TaskReport(detail).text)
        }
    }
}

/// A task's state, steps and history as text or JSON.
struct TaskReport {
    let detail: TaskDetail
    init(_ detail: TaskDetail) { self.detail = detail }

    var text: String {
        let task = detail.task
        var lines = ["task \(task.id.uuidString.lowercased()) \(task.template): \(task.state.rawValue)"]
        lines.append("  context: \(task.context.canonicalString)")
        for step in detail.steps {
            var line = "  \(step.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(step.state.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) attempts \(step.attempts)/\(step.maxAttempts)"
            if let results = step.results { line += "  results \(results.canonicalString)" }
            if let error = step.lastError, step.state != .complete { line += "  last error \(error["message"]?.stringValue ?? error.canonicalString)" }
            lines.append(line)
        }
        lines.append("  history:")
        lines.append("    task: " + detail.taskTransitions.map(\.toState).joined(separator: " → "))
        for step in detail.steps {
            let trail = detail.stepTransitions[step.id] ?? []
            lines.append("    \(step.name): " + trail.map(\.toState).joined(separator: " → "))
        }
        if !detail.operatorActions.isEmpty { lines.append("  operator actions:") }
        for action in detail.operatorActions {
            let step = action.stepID.flatMap { id in detail.steps.first { $0.id == id } }.map { " \($0.name)" } ?? ""
            lines.append("    \(WireTimestamp.string(from: action.occurredAt)) \(action.action)\(step) by \(action.actor): \(action.reason)")
        }
        return lines.joined(separator: "\n")
    }

    var json: JSONValue {
        // Ids in lower case and times in microseconds, as the HTTP API and the wire write them.
        let time = { (date: Date) in JSONValue.string(WireTimestamp.string(from: date)) }
        let id = { (id: UUID) in JSONValue.string(id.uuidString.lowercased()) }
        func transitions(_ rows: [TransitionRecord]) -> JSONValue {
            .array(rows.map { row in
                [
                    "from_state": row.fromState.map(JSONValue.string) ?? .null, "to_state": .string(row.toState),
                    "sort_key": .int(Int64(row.sortKey)), "most_recent": .bool(row.mostRecent), "metadata": row.metadata,
                    "created_at": time(row.createdAt),
                ]
            })
        }
        let task = detail.task
        return [
            "task_id": id(task.id), "namespace": .string(task.template.namespace),
            "name": .string(task.template.name), "version": .string(task.template.version.description),
            "state": .string(task.state.rawValue), "context": task.context,
            "created_at": time(task.createdAt),
            "completed_at": task.completedAt.map(time) ?? .null,
            "transitions": transitions(detail.taskTransitions),
            "operator_actions": .array(detail.operatorActions.map { action in
                [
                    "action_id": id(action.id), "action": .string(action.action),
                    "step_id": action.stepID.map(id) ?? .null, "actor": .string(action.actor),
                    "reason": .string(action.reason), "results": action.results ?? .null,
                    "created_at": time(action.occurredAt),
                ]
            }),
            "steps": .array(detail.steps.map { step in
                [
                    "step_id": id(step.id), "name": .string(step.name), "handler": .string(step.handler),
                    "state": .string(step.state.rawValue), "attempts": .int(Int64(step.attempts)),
                    "max_attempts": .int(Int64(step.maxAttempts)), "attempt_base": .int(Int64(step.attemptBase)),
                    "results": step.results ?? .null,
                    "last_error": step.lastError ?? .null, "transitions": transitions(detail.stepTransitions[step.id] ?? []),
                ]
            }),
        ]
    }
}
