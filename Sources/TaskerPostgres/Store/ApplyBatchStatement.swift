internal import Foundation
internal import PostgresNIO
internal import TaskerCore

/// The call of `tasker_apply_batch` (migrations 0015, 0017), a prepared statement: everything a
/// decided batch writes, as parallel arrays. Arrays cannot carry NULL through binds: '' and
/// -1 stand for "none". Returns the outbox row written, if the batch has messages. An
/// optimistic batch passes the versions it read its tasks at (``readVersions``): the call
/// fails with ``RefusedBatch/sqlState`` if one changed.
struct ApplyBatchStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT tasker_apply_batch($1::uuid[], $2::text[], $3::int8[], $4::text[], $5::text[], $6::float8[], $7::float8[],
            $8::int8[], $9::bool[],
            $10::uuid[], $11::uuid[], $12::text[], $13::text[], $14::int8[], $15::bool[], $16::text[],
            $17::uuid[], $18::int8[], $19::int8[], $20::int8[], $21::uuid[], $22::int8[],
            $23::uuid[], $24::text[], $25::bool[], $26::text[], $27::text[],
            $28::text[], $29::text[], $30::text[], $31::uuid[], $32::text[], $33::int8[], $34::uuid[], $35::int8[])
        """
    typealias Row = Int64?

    var rows: [StepResultLedger.StepRow]
    var transitions: [StepResultLedger.Transition]
    var unfinishedParents: [UUID: Int]
    var taskMoves: [WorkflowEffects.TaskMove]
    var messages: [OutboundMessage]
    /// Published outbox rows of earlier batches, deleted by the same call.
    var deletedOutbox: [Int64]
    /// An optimistic batch's tasks and the versions it read them at; empty when the caller
    /// holds the tasks' locks.
    var readVersions: [UUID: Int64] = [:]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 35)
        appendBindings(to: &bindings)
        return bindings
    }

    /// Appends the call's 35 arguments, in order.
    func appendBindings(to bindings: inout PostgresBindings) {
        // Every task the call changes (named by an audit row or a task move) gets a new
        // `lock_version`, which optimistic batches check (migration 0017), with how its step
        // counts move: zero for a retry's waiting_for_retry → enqueued, say.
        let deltas = TaskProgress.Delta.perTask(transitions.map { ($0.taskID, $0.from, $0.to) })
        let counted = Array(Set(transitions.map(\.taskID)).union(taskMoves.map(\.id)))
        // The newest audit row of each step becomes its `most_recent`.
        var newest: [UUID: Int] = [:]
        for (index, transition) in transitions.enumerated() { newest[transition.stepID] = index }
        // A changed step's new count goes with its row; the others are written on their own.
        let changed = Set(rows.map(\.id))
        let children = unfinishedParents.keys.filter { !changed.contains($0) }

        bindings.append(rows.map(\.id))
        bindings.append(rows.map(\.state.rawValue))
        bindings.append(rows.map { Int64($0.attempts) })
        bindings.append(rows.map { $0.results?.canonicalString ?? "" })
        bindings.append(rows.map { $0.lastError?.canonicalString ?? "" })
        bindings.append(rows.map { $0.nextRetryAt?.timeIntervalSince1970 ?? -1 })
        bindings.append(rows.map { $0.deadline?.timeIntervalSince1970 ?? -1 })
        bindings.append(rows.map { Int64(unfinishedParents[$0.id] ?? 0) })
        bindings.append(rows.map { unfinishedParents[$0.id] != nil })
        bindings.append(transitions.map(\.stepID))
        bindings.append(transitions.map(\.taskID))
        bindings.append(transitions.map(\.from.rawValue))
        bindings.append(transitions.map(\.to.rawValue))
        bindings.append(transitions.map { Int64($0.sortKey) })
        bindings.append(transitions.indices.map { newest[transitions[$0].stepID] == $0 })
        bindings.append(transitions.map(\.metadata.canonicalString))
        bindings.append(counted)
        bindings.append(counted.map { Int64(deltas[$0]?.done ?? 0) })
        bindings.append(counted.map { Int64(deltas[$0]?.failed ?? 0) })
        bindings.append(counted.map { Int64(deltas[$0]?.active ?? 0) })
        bindings.append(children)
        bindings.append(children.map { Int64(unfinishedParents[$0]!) })
        bindings.append(taskMoves.map(\.id))
        bindings.append(taskMoves.map(\.to.rawValue))
        bindings.append(taskMoves.map(\.to.isFinished))
        bindings.append(taskMoves.map(\.from.rawValue))
        bindings.append(taskMoves.map(\.metadata.canonicalString))
        bindings.append(messages.map(\.exchange))
        bindings.append(messages.map(\.routingKey))
        bindings.append(messages.map(\.type))
        bindings.append(messages.map(\.messageID))
        bindings.append(messages.map { String(decoding: $0.body, as: UTF8.self) })
        bindings.append(deletedOutbox)
        let guarded = Array(readVersions.keys)
        bindings.append(guarded)
        bindings.append(guarded.map { readVersions[$0]! })
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64?.self) }
}
