internal import Foundation
internal import PostgresNIO
internal import TaskerCore

/// The bound call of `tasker_apply_batch` (migration 0007): everything a decided batch writes,
/// as parallel arrays. Arrays cannot carry NULL through binds: '' and -1 stand for "none".
struct ApplyBatchCall {
    var rows: [StepResultLedger.StepRow]
    var transitions: [StepResultLedger.Transition]
    var unfinishedParents: [UUID: Int]
    var taskMoves: [WorkflowEffects.TaskMove]
    var messages: [OutboundMessage]

    var query: PostgresQuery {
        // The tasks' step counts move with their steps (the caller holds the tasks' locks
        // whenever a count changes; a retry's waiting_for_retry → enqueued changes none).
        let deltas = TaskProgress.Delta.perTask(transitions.map { ($0.taskID, $0.from, $0.to) })
        let counted = Array(deltas.keys)
        // The newest audit row of each step becomes its `most_recent`.
        var newest: [UUID: Int] = [:]
        for (index, transition) in transitions.enumerated() { newest[transition.stepID] = index }
        let mostRecent = transitions.indices.map { newest[transitions[$0].stepID] == $0 }
        let children = Array(unfinishedParents.keys)
        return """
            SELECT tasker_apply_batch(
                \(rows.map(\.id))::uuid[], \(rows.map(\.state.rawValue))::text[], \(rows.map(\.attempts))::int8[],
                \(rows.map { $0.results?.canonicalString ?? "" })::text[], \(rows.map { $0.lastError?.canonicalString ?? "" })::text[],
                \(rows.map { $0.nextRetryAt?.timeIntervalSince1970 ?? -1 })::float8[],
                \(rows.map { $0.deadline?.timeIntervalSince1970 ?? -1 })::float8[],
                \(transitions.map(\.stepID))::uuid[], \(transitions.map(\.taskID))::uuid[],
                \(transitions.map(\.from.rawValue))::text[], \(transitions.map(\.to.rawValue))::text[],
                \(transitions.map(\.sortKey))::int8[], \(mostRecent)::bool[], \(transitions.map(\.metadata.canonicalString))::text[],
                \(counted)::uuid[], \(counted.map { deltas[$0]!.done })::int8[], \(counted.map { deltas[$0]!.failed })::int8[],
                \(counted.map { deltas[$0]!.active })::int8[],
                \(children)::uuid[], \(children.map { unfinishedParents[$0]! })::int8[],
                \(taskMoves.map(\.id))::uuid[], \(taskMoves.map(\.to.rawValue))::text[], \(taskMoves.map(\.to.isFinished))::bool[],
                \(taskMoves.map(\.from.rawValue))::text[], \(taskMoves.map(\.metadata.canonicalString))::text[],
                \(messages.map(\.exchange))::text[], \(messages.map(\.routingKey))::text[], \(messages.map(\.type))::text[],
                \(messages.map(\.messageID))::uuid[], \(messages.map { String(decoding: $0.body, as: UTF8.self) })::text[])
            """
    }
}
