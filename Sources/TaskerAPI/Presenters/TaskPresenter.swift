internal import Foundation
public import TaskerCore
public import TaskerPostgres

/// Tasks, steps and audit rows as the API's JSON (docs/openapi.yaml: `Task`, `TaskDetail`,
/// `Step`, `StepDetail`, `AuditEntry`).
public enum TaskPresenter {
    /// A page of tasks: `tasks` (each a ``summary(_:)``) and the `next_cursor` token, or null.
    public static func list(_ page: Page<TaskRecord>) -> JSONValue {
        ["tasks": .array(page.items.map(summary)), "next_cursor": page.next.map { .string($0.token) } ?? .null]
    }

    public static func summary(_ task: TaskRecord) -> JSONValue {
        [
            "task_id": .string(task.id.uuidString.lowercased()),
            "namespace": .string(task.template.namespace), "name": .string(task.template.name),
            "version": .string(task.template.version.description), "state": .string(task.state.rawValue),
            "priority": .int(Int64(task.priority)), "tags": .array(task.tags.map(JSONValue.string)),
            "initiator": optional(task.initiator), "source_system": optional(task.sourceSystem), "reason": optional(task.reason),
            "identity_hash": optional(task.identityHash),
            "created_at": APITime.json(task.createdAt), "updated_at": APITime.json(task.updatedAt),
            "completed_at": APITime.json(task.completedAt),
            "step_counts": [
                "total": .int(Int64(task.counts.total)), "done": .int(Int64(task.counts.done)),
                "error": .int(Int64(task.counts.error)), "active": .int(Int64(task.counts.active)),
            ],
        ]
    }

    public static func detail(_ view: TaskView) -> JSONValue {
        var object = summary(view.task).objectValue ?? [:]
        object["context"] = view.context
        object["steps"] = .array(view.steps.map(step))
        return .object(object)
    }

    public static func step(_ step: StepRecord) -> JSONValue {
        [
            "step_id": .string(step.id.uuidString.lowercased()), "task_id": .string(step.taskID.uuidString.lowercased()),
            "name": .string(step.name), "handler": .string(step.handler), "position": .int(Int64(step.position)),
            "state": .string(step.state.rawValue), "attempts": .int(Int64(step.attempts)),
            "max_attempts": .int(Int64(step.retry.maxAttempts)), "retryable": .bool(step.retry.retryable),
            "timeout_seconds": .double(step.timeoutSeconds), "depends_on": .array(step.parents.map(JSONValue.string)),
            "next_retry_at": APITime.json(step.nextRetryAt), "deadline": APITime.json(step.deadline),
            "results": step.results ?? .null, "last_error": step.lastError ?? .null,
            "created_at": APITime.json(step.createdAt), "updated_at": APITime.json(step.updatedAt),
        ]
    }

    /// A step with its transitions and, read from them, one entry per attempt.
    public static func stepDetail(_ record: StepRecord, transitions: [AuditEntry]) -> JSONValue {
        var object = step(record).objectValue ?? [:]
        object["transitions"] = .array(transitions.map(transition))
        object["attempt_history"] = .array(StepAttempts(transitions).attempts.map(\.json))
        return .object(object)
    }

    public static func transition(_ entry: AuditEntry) -> JSONValue {
        [
            "from_state": optional(entry.fromState), "to_state": .string(entry.toState), "sort_key": .int(Int64(entry.sortKey)),
            "metadata": entry.metadata, "created_at": APITime.json(entry.createdAt),
        ]
    }

    public static func auditEntry(_ entry: AuditEntry) -> JSONValue {
        var object = transition(entry).objectValue ?? [:]
        object["entity"] = .string(entry.stepID == nil ? "task" : "step")
        object["step_id"] = optional(entry.stepID?.uuidString.lowercased())
        object["step_name"] = optional(entry.stepName)
        return .object(object)
    }

    static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
}

/// A step's attempts, read from its transitions: each attempt starts with `→ in_progress` and
/// ends with `→ complete`, `→ waiting_for_retry` or `→ error` (the rows carry the attempt
/// number, the worker and the error in their metadata).
struct StepAttempts {
    struct Attempt {
        var number: Int
        var workerID: String?
        var startedAt: Date
        var finishedAt: Date?
        var outcome: String?
        var durationMs: Double?
        var error: JSONValue = .null

        var json: JSONValue {
            [
                "attempt": .int(Int64(number)), "worker_id": TaskPresenter.optional(workerID), "started_at": APITime.json(startedAt),
                "finished_at": APITime.json(finishedAt), "outcome": TaskPresenter.optional(outcome),
                "duration_ms": durationMs.map(JSONValue.double) ?? .null, "error": error,
            ]
        }
    }

    private(set) var attempts: [Attempt] = []

    init(_ transitions: [AuditEntry]) {
        for entry in transitions {
            let number = entry.metadata["attempt"]?.intValue.map(Int.init)
            switch entry.toState {
            case StepState.inProgress.rawValue:
                attempts.append(Attempt(
                    number: number ?? attempts.count + 1, workerID: entry.metadata["worker_id"]?.stringValue,
                    startedAt: entry.metadata["reported_at"]?.doubleValue.map(Date.init(timeIntervalSince1970:)) ?? entry.createdAt))
            case StepState.complete.rawValue, StepState.waitingForRetry.rawValue, StepState.error.rawValue,
                StepState.cancelled.rawValue, StepState.resolvedManually.rawValue:
                guard let last = attempts.indices.last, attempts[last].outcome == nil, number == nil || number == attempts[last].number
                else { continue }
                attempts[last].finishedAt = entry.metadata["reported_at"]?.doubleValue.map(Date.init(timeIntervalSince1970:)) ?? entry.createdAt
                attempts[last].outcome = entry.toState
                attempts[last].durationMs = entry.metadata["duration_ms"]?.doubleValue
                if let message = entry.metadata["error_message"]?.stringValue {
                    attempts[last].error = ["message": .string(message), "kind": entry.metadata["error_kind"] ?? .null]
                }
            default:
                continue
            }
        }
    }
}
