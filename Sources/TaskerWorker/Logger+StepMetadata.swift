internal import Foundation
internal import Logging
internal import TaskerCore

extension Logger {
    /// This logger with a step attempt's ids as metadata (`LogKeys`), written in one change:
    /// swift-log's stream handler renders all of its metadata again on every change (four
    /// changes per step, twice, were 5 % of a worker's CPU under load).
    func withStepMetadata(taskID: UUID, stepID: UUID, stepName: String, attempt: Int) -> Logger {
        var logger = self
        logger.handler.metadata.merge(
            [
                LogKeys.taskID: .string(taskID.uppercaseHexString),
                LogKeys.stepID: .string(stepID.uppercaseHexString),
                LogKeys.stepName: .string(stepName),
                LogKeys.attempt: .string(String(attempt)),
            ]
        ) { _, new in new }
        return logger
    }
}
