import ArgumentParser
import Foundation
import TaskerCore
import TaskerRuntime
import TaskerServices

extension ServiceOptions {
    /// The orchestration services' configuration: the broker, `--concurrency` (default 2),
    /// `TASKER_BATCH_SIZE`, `TASKER_SWEEPER_GRACE_SECONDS`, `TASKER_LIFECYCLE_EVENTS` and the start-up timeout.
    func pipeline() throws -> PipelineConfiguration {
        var configuration = PipelineConfiguration(amqp: try amqpConfiguration(name: "tasker"), topology: topology)
        configuration.concurrency = resolvedConcurrency(default: 2)
        if let size = environment["TASKER_BATCH_SIZE"].flatMap(Int.init), size > 0 { configuration.batchSize = size }
        if let grace = environment["TASKER_SWEEPER_GRACE_SECONDS"].flatMap(Double.init) { configuration.sweeperGraceSeconds = grace }
        if let raw = environment["TASKER_LIFECYCLE_EVENTS"] {
            guard let events = LifecycleEventSelection(rawValue: raw) else {
                throw ValidationError("TASKER_LIFECYCLE_EVENTS must be one of \(LifecycleEventSelection.allCases.map(\.rawValue)), not '\(raw)'")
            }
            configuration.lifecycleEvents = events
        }
        configuration.startupTimeout = startupTimeout
        return configuration
    }
}
