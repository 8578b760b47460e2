import ArgumentParser
import Foundation
import TaskerCore
import TaskerRuntime
import TaskerServices

extension ServiceOptions {
    /// The orchestration services' configuration: the broker, `--concurrency` (default 2),
    /// `TASKER_BATCH_SIZE`, `TASKER_SWEEPER_GRACE_SECONDS`, `TASKER_LIFECYCLE_EVENTS` and the start-up timeout.
    /// A value it cannot use is a ``CommandFailure`` naming the variable (exit status 1).
    func pipeline() throws -> PipelineConfiguration {
        var configuration = PipelineConfiguration(amqp: try amqpConfiguration(name: "tasker"), topology: topology)
        configuration.concurrency = resolvedConcurrency(default: 2)
        if let size = try EnvironmentSetting.integer("TASKER_BATCH_SIZE", in: environment, atLeast: 1) { configuration.batchSize = size }
        if let grace = try EnvironmentSetting.seconds("TASKER_SWEEPER_GRACE_SECONDS", in: environment, positive: false) {
            configuration.sweeperGraceSeconds = grace
        }
        if let raw = environment["TASKER_LIFECYCLE_EVENTS"] {
            guard let events = LifecycleEventSelection(rawValue: raw) else {
                throw CommandFailure("TASKER_LIFECYCLE_EVENTS must be one of \(LifecycleEventSelection.allCases.map(\.rawValue)), not '\(raw)'")
            }
            configuration.lifecycleEvents = events
        }
        configuration.startupTimeout = startupTimeout
        return configuration
    }
}
