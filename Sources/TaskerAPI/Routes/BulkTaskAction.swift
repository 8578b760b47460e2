internal import Foundation
internal import TaskerCore

/// One operator action on a selection of tasks (`POST /v1/tasks/bulk`, the dashboard's bulk
/// cancel and retry): each task gets its own ``OperatorCommand``, all performed in one call of
/// the same ``TaskActionPerforming`` as the single-task endpoints, and each is decided,
/// audited and answered on its own (applied, already applied, refused with the reason, not found).
struct BulkTaskAction: Sendable {
    /// The task-level actions a selection can get.
    enum Kind: String, Sendable, CaseIterable {
        case cancel
        case retry

        var action: OperatorCommand.Action {
            switch self {
            case .cancel: .cancelTask
            case .retry: .retryTask
            }
        }
    }

    /// The most tasks one bulk request may name (one page of the dashboard's list is 50).
    static let maximumTasks = 100

    var kind: Kind
    /// The selection, in the order given, without repeats.
    var taskIDs: [UUID]
    var actor: String
    var reason: String

    /// The problems with the selection itself: none, too many, or repeated ids are dropped by
    /// ``init(kind:taskIDs:actor:reason:)``.
    static func problems(count: Int) -> [String] {
        if count == 0 { return ["select at least one task"] }
        if count > maximumTasks { return ["at most \(maximumTasks) tasks at once, got \(count)"] }
        return []
    }

    init(kind: Kind, taskIDs: [UUID], actor: String, reason: String) {
        var seen = Set<UUID>()
        self.kind = kind
        self.taskIDs = taskIDs.filter { seen.insert($0).inserted }
        self.actor = actor
        self.reason = reason
    }

    /// Performs the action on each task in order, in one call of the performer (one
    /// transaction with `OperatorActions`); one outcome per task, in order.
    /// - Throws: what the performer throws (the database is unreachable); repeating the
    ///   request is safe (tasks already done answer `already_applied`).
    func perform(with actions: any TaskActionPerforming) async throws -> [OperatorOutcome] {
        try await actions.perform(taskIDs.map { OperatorCommand(taskID: $0, action: kind.action, actor: actor, reason: reason) })
    }
}
