internal import Foundation
internal import PostgresNIO
internal import TaskerCore

/// The call of `tasker_create_tasks` (migration 0008), a prepared statement: a batch of
/// planned tasks with their steps and edges as parallel arrays. One row per plan comes back,
/// in order: its id, whether it was stored, and the existing task's id for a duplicate.
struct CreateTasksStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT plan_id, stored, existing_id FROM tasker_create_tasks(
            $1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
            $10::text[], $11::int8[], $12::int8[], $13::bool, $14::text,
            $15::uuid[], $16::uuid[], $17::text[], $18::text[], $19::int8[], $20::bool[], $21::int8[], $22::float8[],
            $23::float8[], $24::float8[], $25::float8[], $26::text[], $27::int8[],
            $28::uuid[], $29::uuid[], $30::uuid[])
        """
    typealias Row = (UUID, Bool, UUID?)

    var plans: [TaskPlan]
    var started: Bool
    var topology: String
    /// Each plan's tags as a JSON array (text).
    private let tags: [String]

    init(plans: [TaskPlan], started: Bool, topology: String) throws {
        self.plans = plans
        self.started = started
        self.topology = topology
        self.tags = try plans.map { String(decoding: try JSONEncoder().encode($0.tags), as: UTF8.self) }
    }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 30)
        appendBindings(to: &bindings)
        return bindings
    }

    /// Appends the call's 30 arguments, in order.
    func appendBindings(to bindings: inout PostgresBindings) {
        let steps = plans.flatMap { plan in plan.steps.map { (task: plan.taskID, step: $0) } }
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
        bindings.append(edges.map(\.task))
        bindings.append(edges.map(\.parent))
        bindings.append(edges.map(\.child))
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
