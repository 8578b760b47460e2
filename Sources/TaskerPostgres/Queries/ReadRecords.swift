public import Foundation
public import TaskerCore

/// A task as the read queries return it (``TaskQueries``): the row without its context, with
/// its step counts.
public struct TaskRecord: Sendable, Hashable {
    public var id: UUID
    public var template: TemplateKey
    public var state: TaskState
    public var identityHash: String?
    public var initiator: String?
    public var sourceSystem: String?
    public var reason: String?
    public var tags: [String]
    public var priority: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var completedAt: Date?
    public var counts: StepCounts
    /// Its position in the newest-first listing.
    public var cursor: KeysetCursor
}

/// A task's step counts, as kept on its row.
public struct StepCounts: Sendable, Hashable {
    public var total: Int
    /// `complete` or `resolved_manually`.
    public var done: Int
    public var error: Int
    /// `enqueued`, `in_progress` or `waiting_for_retry`.
    public var active: Int
}

/// A step as the read queries return it.
public struct StepRecord: Sendable, Hashable {
    public var id: UUID
    public var taskID: UUID
    public var name: String
    public var handler: String
    public var position: Int
    public var state: StepState
    public var attempts: Int
    public var retry: RetryPolicy
    public var timeoutSeconds: Double
    public var nextRetryAt: Date?
    public var deadline: Date?
    public var results: JSONValue?
    public var lastError: JSONValue?
    /// Names of the steps it depends on, sorted.
    public var parents: [String]
    public var createdAt: Date
    public var updatedAt: Date
}

/// A task with its context and steps (in template order).
public struct TaskView: Sendable, Hashable {
    public var task: TaskRecord
    public var context: JSONValue
    public var steps: [StepRecord]
}

/// One row of a task's audit trail: a transition of the task or of one of its steps.
public struct AuditEntry: Sendable, Hashable {
    /// `nil` for a transition of the task itself.
    public var stepID: UUID?
    public var stepName: String?
    public var fromState: String?
    public var toState: String
    public var sortKey: Int
    public var metadata: JSONValue
    public var createdAt: Date
    /// Its position in the trail.
    public var cursor: KeysetCursor
}

/// One page of a keyset-paginated listing.
public struct Page<Item: Sendable & Hashable>: Sendable, Hashable {
    public var items: [Item]
    /// Where the next page starts; `nil` on the last page.
    public var next: KeysetCursor?

    public init(items: [Item], next: KeysetCursor?) {
        self.items = items
        self.next = next
    }
}

/// A registered template version as stored.
public struct RegisteredTemplate: Sendable, Hashable {
    public var template: TaskTemplate
    public var registeredAt: Date
}
