internal import Foundation
internal import PostgresNIO
internal import TaskerCore

/// The call of `tasker_create_tasks` (migrations 0008, 0023), a prepared statement: a batch of
/// planned tasks with their steps and edges as parallel arrays. One row per plan comes back,
/// in order: its id, whether it was stored, and the existing task's id for a duplicate.
///
/// Steps are stored `pending`, except those with a ``FirstMove``: a move out of `pending` the
/// machine decided for the new step (a root's dispatch), stored with its audit row as if the
/// write call had made it.
struct CreateTasksStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT plan_id, stored, existing_id FROM tasker_create_tasks(
            $1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
            $10::text[], $11::int8[], $12::int8[], $13::int8[], $14::int8[], $15::int8[], $16::bool, $17::text,
            $18::uuid[], $19::uuid[], $20::text[], $21::text[], $22::int8[], $23::bool[], $24::int8[], $25::float8[],
            $26::float8[], $27::float8[], $28::float8[], $29::text[], $30::int8[], $31::text[], $32::float8[], $33::text[],
            $34::uuid[], $35::uuid[], $36::uuid[])
        """
    typealias Row = (UUID, Bool, UUID?)

    var plans: [TaskPlan]
    var started: Bool
    var topology: String
    /// Decided moves out of `pending` of the plans' steps, stored by the creation itself.
    var firstMoves: [UUID: FirstMove] = [:]
    /// Each plan's tags as a JSON array (text).
    private let tags: [String]

    init(plans: [TaskPlan], started: Bool, topology: String) throws {
        self.plans = plans
        self.started = started
        self.topology = topology
        self.tags = try plans.map { String(decoding: try JSONEncoder().encode($0.tags), as: UTF8.self) }
    }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 36)
        appendBindings(to: &bindings)
        return bindings
    }

    /// Appends the call's 36 arguments, in order.
    func appendBindings(to bindings: inout PostgresBindings) {
        let steps = plans.flatMap { plan in plan.steps.map { (task: plan.taskID, step: $0) } }
        let counts = TaskProgress.Delta.perTask(steps.compactMap { step in
            firstMoves[step.step.id].map { (task: step.task, from: StepState.pending, to: $0.state) }
        })
        var parentCounts: [UUID: Int] = [:]
        for plan in plans { for edge in plan.edges { parentCounts[edge.child, default: 0] += 1 } }
        let edges = plans.flatMap { plan in plan.edges.map { (task: plan.taskID, parent: $0.parent, child: $0.child) } }

        bindings.append(plans.map(\.taskID))
        bindings.append(plans.map(\.template.namespace))
        bindings.append(plans.map(\.template.name))
        bindings.append(plans.map(\.template.version.description))
        bindings.append(plans.map(\.context.canonicalString))
        bindings.append(plans.map { $0.identityHash ?? "" })
        bindings.append(plans.map { $0.initiator ?? "" })
        bindings.append(plans.map { $0.sourceSystem ?? "" })
        bindings.append(plans.map { $0.reason ?? "" })
        bindings.append(tags)
        bindings.append(plans.map { Int64($0.priority) })
        bindings.append(plans.map { Int64($0.steps.count) })
        bindings.append(plans.map { Int64(counts[$0.taskID]?.done ?? 0) })
        bindings.append(plans.map { Int64(counts[$0.taskID]?.failed ?? 0) })
        bindings.append(plans.map { Int64(counts[$0.taskID]?.active ?? 0) })
        bindings.append(started)
        bindings.append(topology)
        bindings.append(steps.map(\.step.id))
        bindings.append(steps.map(\.task))
        bindings.append(steps.map(\.step.name))
        bindings.append(steps.map(\.step.handler))
        bindings.append(steps.map { Int64($0.step.position) })
        bindings.append(steps.map(\.step.retry.retryable))
        bindings.append(steps.map { Int64($0.step.retry.maxAttempts) })
        bindings.append(steps.map(\.step.retry.backoff.baseSeconds))
        bindings.append(steps.map(\.step.retry.backoff.maxSeconds))
        bindings.append(steps.map(\.step.retry.backoff.jitter))
        bindings.append(steps.map(\.step.timeoutSeconds))
        bindings.append(steps.map(\.step.handlerConfig.canonicalString))
        bindings.append(steps.map { Int64(parentCounts[$0.step.id] ?? 0) })
        bindings.append(steps.map { (firstMoves[$0.step.id]?.state ?? .pending).rawValue })
        bindings.append(steps.map { firstMoves[$0.step.id]?.deadline?.timeIntervalSince1970 ?? -1 })
        bindings.append(steps.map { firstMoves[$0.step.id]?.metadata.canonicalString ?? "{}" })
        bindings.append(edges.map(\.task))
        bindings.append(edges.map(\.parent))
        bindings.append(edges.map(\.child))
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
