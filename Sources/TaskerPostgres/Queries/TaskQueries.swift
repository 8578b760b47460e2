public import Foundation
public import Logging
internal import PostgresNIO
internal import TaskerCore

/// Read-only queries over tasks, steps and their audit trails, for the HTTP API and other
/// readers. Each call is one statement (or one read transaction) with the database's deadline;
/// nothing here writes.
///
/// ```swift
/// let queries = TaskQueries(database: database, logger: logger)
/// let page = try await queries.list(TaskListFilter(states: [.error]), limit: 50)
/// let more = try await queries.list(TaskListFilter(states: [.error]), limit: 50, after: page.next)
/// ```
public struct TaskQueries: Sendable {
    public let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// The columns ``decodeTask(_:)`` reads, for `tasks t`.
    static let taskColumns = """
        t.id, t.namespace, t.name, t.version, t.state, t.identity_hash, t.initiator, t.source_system, t.reason, t.tags,
        t.priority, t.created_at, t.updated_at, t.completed_at, t.steps_total, t.steps_done, t.steps_error, t.steps_active,
        (EXTRACT(EPOCH FROM t.created_at) * 1000000)::int8 AS created_micros
        """

    /// Tasks matching `filter`, newest first (by `created_at`, then id), at most `limit`, starting
    /// after `cursor`. Uses the `(created_at, id)` indexes of migration 0010.
    public func list(_ filter: TaskListFilter, limit: Int, after cursor: KeysetCursor? = nil) async throws -> Page<TaskRecord> {
        let states = filter.states.map { $0.map(\.rawValue) }
        let cursorID = cursor?.uuid
        let cursorMicros = cursorID == nil ? nil : cursor?.micros
        let rows = try await database.query(
            """
            SELECT \(unescaped: Self.taskColumns)
            FROM tasks t
            WHERE (\(states)::text[] IS NULL OR t.state = ANY(\(states)::text[]))
              AND (\(filter.namespace)::text IS NULL OR t.namespace = \(filter.namespace))
              AND (\(filter.name)::text IS NULL OR t.name = \(filter.name))
              AND (\(filter.createdAfter)::timestamptz IS NULL OR t.created_at >= \(filter.createdAfter))
              AND (\(filter.createdBefore)::timestamptz IS NULL OR t.created_at < \(filter.createdBefore))
              AND (\(filter.updatedAfter)::timestamptz IS NULL OR t.updated_at >= \(filter.updatedAfter))
              AND (\(filter.updatedBefore)::timestamptz IS NULL OR t.updated_at < \(filter.updatedBefore))
              AND (\(filter.identityHashes)::text[] IS NULL OR t.identity_hash = ANY(\(filter.identityHashes)::text[]))
              AND (\(cursorMicros)::int8 IS NULL
                   OR (t.created_at, t.id) < (timestamptz 'epoch' + \(cursorMicros)::int8 * interval '1 microsecond', \(cursorID)::uuid))
            ORDER BY t.created_at DESC, t.id DESC
            LIMIT \(limit + 1)
            """)
        var tasks = try rows.map(Self.decodeTask)
        let more = tasks.count > limit
        if more { tasks.removeLast() }
        return Page(items: tasks, next: more ? tasks.last?.cursor : nil)
    }

    /// The task with its context and its steps in template order; `nil` when there is none.
    public func task(_ id: UUID) async throws -> TaskView? {
        let logger = self.logger
        return try await database.withConnection { connection in
            let taskRows = try await connection.query(
                "SELECT \(unescaped: Self.taskColumns), t.context::text AS context FROM tasks t WHERE t.id = \(id)", logger: logger)
            var found: (TaskRecord, JSONValue)?
            for try await row in taskRows {
                found = (try Self.decodeTask(row), try JSONValue.parse(try row.makeRandomAccess()["context"].decode(String.self)))
            }
            guard let (task, context) = found else { return nil }
            let steps = try await Self.steps(where: "s.task_id = $1", id, on: connection, logger: logger)
            return TaskView(task: task, context: context, steps: steps)
        }
    }

    /// One step of a task, by id or by name, with its transitions oldest first; `nil` when the
    /// task has no such step.
    public func step(task taskID: UUID, reference: String) async throws -> (step: StepRecord, transitions: [AuditEntry])? {
        let logger = self.logger
        return try await database.withConnection { connection in
            let steps: [StepRecord]
            if let stepID = UUID(uuidString: reference) {
                steps = try await Self.steps(where: "s.task_id = $1 AND s.id = $2", taskID, stepID, on: connection, logger: logger)
            } else {
                steps = try await Self.steps(where: "s.task_id = $1 AND s.name = $2", taskID, reference, on: connection, logger: logger)
            }
            guard let step = steps.first else { return nil }
            let rows = try await connection.query(
                """
                SELECT NULL::uuid AS step_id, NULL::text AS step_name, from_state, to_state, sort_key, metadata::text AS metadata,
                       created_at, (EXTRACT(EPOCH FROM created_at) * 1000000)::int8 AS created_micros, 1 AS rank, id
                FROM step_transitions WHERE step_id = \(step.id) ORDER BY sort_key
                """,
                logger: logger)
            var transitions: [AuditEntry] = []
            for try await row in rows { transitions.append(try Self.decodeAuditEntry(row)) }
            return (step, transitions)
        }
    }

    /// A task's audit trail, oldest first: the task's transitions and its steps', merged by time
    /// (at equal times the task's first), at most `limit` starting after `cursor`; `nil` when
    /// the task does not exist.
    public func auditTrail(task taskID: UUID, limit: Int, after cursor: KeysetCursor? = nil) async throws -> Page<AuditEntry>? {
        let logger = self.logger
        let cursorMicros = cursor?.micros
        let cursorRank = cursor?.rank
        let cursorID = cursor.flatMap { Int64($0.id) }
        return try await database.withConnection { connection in
            let exists = try await connection.query("SELECT 1 FROM tasks WHERE id = \(taskID)", logger: logger)
            var found = false
            for try await _ in exists { found = true }
            guard found else { return nil }
            let rows = try await connection.query(
                """
                SELECT * FROM (
                    SELECT NULL::uuid AS step_id, NULL::text AS step_name, tt.from_state, tt.to_state, tt.sort_key,
                           tt.metadata::text AS metadata, tt.created_at,
                           (EXTRACT(EPOCH FROM tt.created_at) * 1000000)::int8 AS created_micros, 0 AS rank, tt.id
                    FROM task_transitions tt WHERE tt.task_id = \(taskID)
                    UNION ALL
                    SELECT st.step_id, s.name, st.from_state, st.to_state, st.sort_key, st.metadata::text, st.created_at,
                           (EXTRACT(EPOCH FROM st.created_at) * 1000000)::int8, 1, st.id
                    FROM steps s JOIN step_transitions st ON st.step_id = s.id WHERE s.task_id = \(taskID)
                ) trail
                WHERE \(cursorMicros)::int8 IS NULL
                   OR (created_micros, rank, id) > (\(cursorMicros)::int8, \(cursorRank)::int4, \(cursorID)::int8)
                ORDER BY created_micros, rank, id
                LIMIT \(limit + 1)
                """,
                logger: logger)
            var entries: [AuditEntry] = []
            for try await row in rows { entries.append(try Self.decodeAuditEntry(row)) }
            let more = entries.count > limit
            if more { entries.removeLast() }
            return Page(items: entries, next: more ? entries.last?.cursor : nil)
        }
    }

    // MARK: Decoding

    /// Steps matching a condition on `steps s` (`$1`, `$2` bound to `first`, `second`), in
    /// template order, with their parents' names.
    private static func steps(
        where condition: StaticString, _ first: UUID, _ second: (any PostgresDynamicTypeEncodable)? = nil,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> [StepRecord] {
        var bindings = PostgresBindings()
        bindings.append(first)
        if let second { bindings.append(second) }
        let sql = """
            SELECT s.id, s.task_id, s.name, s.handler, s.position, s.state, s.attempts, s.retryable, s.max_attempts,
                   s.backoff_base_seconds, s.backoff_max_seconds, s.backoff_jitter, s.timeout_seconds, s.next_retry_at,
                   s.deadline, s.results::text AS results, s.last_error::text AS last_error, s.created_at, s.updated_at,
                   COALESCE((SELECT array_agg(p.name ORDER BY p.name) FROM step_edges e JOIN steps p ON p.id = e.parent_step_id
                             WHERE e.child_step_id = s.id), '{}') AS parents
            FROM steps s WHERE \(condition) ORDER BY s.position
            """
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
        var steps: [StepRecord] = []
        for try await row in rows { steps.append(try decodeStep(row)) }
        return steps
    }

    static func decodeTask(_ row: PostgresRow) throws -> TaskRecord {
        let r = row.makeRandomAccess()
        let id = try r["id"].decode(UUID.self)
        let state = try r["state"].decode(String.self)
        guard let taskState = TaskState(rawValue: state) else { throw ReadError("unknown task state '\(state)' in the database") }
        let version = try r["version"].decode(String.self)
        guard let semver = SemanticVersion(version) else { throw ReadError("stored task version '\(version)' is not a semantic version") }
        return TaskRecord(
            id: id,
            template: TemplateKey(namespace: try r["namespace"].decode(String.self), name: try r["name"].decode(String.self), version: semver),
            state: taskState, identityHash: try r["identity_hash"].decode(String?.self), initiator: try r["initiator"].decode(String?.self),
            sourceSystem: try r["source_system"].decode(String?.self), reason: try r["reason"].decode(String?.self),
            tags: try r["tags"].decode([String].self), priority: try r["priority"].decode(Int.self),
            createdAt: try r["created_at"].decode(Date.self), updatedAt: try r["updated_at"].decode(Date.self),
            completedAt: try r["completed_at"].decode(Date?.self),
            counts: StepCounts(
                total: try r["steps_total"].decode(Int.self), done: try r["steps_done"].decode(Int.self),
                error: try r["steps_error"].decode(Int.self), active: try r["steps_active"].decode(Int.self)),
            cursor: KeysetCursor(micros: try r["created_micros"].decode(Int64.self), id: id.uuidString.lowercased()))
    }

    static func decodeStep(_ row: PostgresRow) throws -> StepRecord {
        let r = row.makeRandomAccess()
        let state = try r["state"].decode(String.self)
        guard let stepState = StepState(rawValue: state) else { throw ReadError("unknown step state '\(state)' in the database") }
        let backoff = BackoffPolicy(
            baseSeconds: try r["backoff_base_seconds"].decode(Double.self), maxSeconds: try r["backoff_max_seconds"].decode(Double.self),
            jitter: try r["backoff_jitter"].decode(Double.self))
        return StepRecord(
            id: try r["id"].decode(UUID.self), taskID: try r["task_id"].decode(UUID.self), name: try r["name"].decode(String.self),
            handler: try r["handler"].decode(String.self), position: try r["position"].decode(Int.self), state: stepState,
            attempts: try r["attempts"].decode(Int.self),
            retry: RetryPolicy(retryable: try r["retryable"].decode(Bool.self), maxAttempts: try r["max_attempts"].decode(Int.self), backoff: backoff),
            timeoutSeconds: try r["timeout_seconds"].decode(Double.self), nextRetryAt: try r["next_retry_at"].decode(Date?.self),
            deadline: try r["deadline"].decode(Date?.self), results: try r["results"].decode(String?.self).map(JSONValue.parse),
            lastError: try r["last_error"].decode(String?.self).map(JSONValue.parse), parents: try r["parents"].decode([String].self),
            createdAt: try r["created_at"].decode(Date.self), updatedAt: try r["updated_at"].decode(Date.self))
    }

    static func decodeAuditEntry(_ row: PostgresRow) throws -> AuditEntry {
        let r = row.makeRandomAccess()
        return AuditEntry(
            stepID: try r["step_id"].decode(UUID?.self), stepName: try r["step_name"].decode(String?.self),
            fromState: try r["from_state"].decode(String?.self), toState: try r["to_state"].decode(String.self),
            sortKey: try r["sort_key"].decode(Int.self), metadata: try JSONValue.parse(try r["metadata"].decode(String.self)),
            createdAt: try r["created_at"].decode(Date.self),
            cursor: KeysetCursor(
                micros: try r["created_micros"].decode(Int64.self), rank: try r["rank"].decode(Int.self),
                id: String(try r["id"].decode(Int64.self))))
    }
}

/// A row the database returned that the reader cannot represent (an unknown state, a bad
/// version): the schema and the code disagree.
public struct ReadError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
