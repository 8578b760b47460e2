internal import Foundation
public import TaskerServices
internal import TaskerCore

/// The API's action endpoints run on the operator actions of the core's decision machine.
extension OperatorActions: TaskActionPerforming {
    public func perform(_ request: TaskActionRequest) async throws -> TaskActionResult {
        let action: OperatorCommand.Action
        switch request.action {
        case .cancelTask: action = .cancelTask
        case .retryTask: action = .retryTask
        case .resolveTask: action = .resolveTask
        case .retryStep(let step): action = .retryStep(OperatorCommand.StepReference(step))
        case .resolveStep(let step, let results): action = .resolveStep(OperatorCommand.StepReference(step), results: results)
        }
        let outcome = try await perform(OperatorCommand(taskID: request.taskID, action: action, actor: request.actor, reason: request.reason))
        let status: TaskActionResult.Status
        switch outcome.status {
        case .applied: status = .applied
        case .alreadyApplied: status = .alreadyApplied
        case .refused: status = .refused
        case .notFound: status = .notFound
        case .invalid: status = .invalid
        }
        return TaskActionResult(
            status: status, message: outcome.message, taskState: outcome.taskState, actionID: outcome.actionID,
            steps: outcome.steps.map { .init(stepID: $0.stepID, stepName: $0.stepName, from: $0.from, to: $0.to) })
    }
}
