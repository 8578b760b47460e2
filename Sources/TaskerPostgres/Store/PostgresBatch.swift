internal import Foundation
internal import Logging
internal import PostgresNIO
internal import TaskerCore

/// One batch of ``WorkflowMachine`` in PostgreSQL: the production ``WorkflowDriver``.
///
/// A locking batch runs in a transaction: it locks rows in a fixed order (tasks, then steps,
/// then children, each in id order), so concurrent finalizers serialise per task and cannot
/// deadlock. An optimistic batch (``Mode/optimistic``) runs outside any
/// explicit transaction: it reads the same rows without locks, with their tasks' versions, and
/// its write call (one statement, atomic on its own) locks the tasks and refuses to write if
/// one changed since (``RefusedBatch``). Either applies effects with a fixed number of statements
/// whatever the batch size. The messages that announce the effects are written to the outbox
/// by the same call, and accumulate in ``outbox`` for the caller to publish after the commit.
struct PostgresBatch: WorkflowDriver {
    let store: PostgresStore
    let connection: PostgresConnection
    /// How the batch reads and writes.
    enum Mode {
        /// In a transaction the caller commits.
        case inTransaction
        /// In `transaction`, whose last statement is the write call of ``apply(_:)``, which
        /// carries the `COMMIT` (``PostgresTransaction/queryAndCommit(_:)``): the flow that uses
        /// the batch runs nothing in the transaction after it.
        case committing(PostgresTransaction)
        /// Outside any transaction: reads without locks, and the write call checks the tasks'
        /// versions (``RefusedBatch``).
        case optimistic
        /// Outside any transaction, for new tasks: the write call creates them too, and fails
        /// (``RefusedBatch``) if one of them was not stored.
        case creating(CreateTasksStatement)

        var creates: Bool {
            if case .creating = self { return true }
            return false
        }
    }

    let mode: Mode
    /// Whether the write call carried the `COMMIT` (or was a transaction of its own).
    private(set) var committed = false
    /// The versions an optimistic batch read its tasks at.
    private var readVersions: [UUID: Int64] = [:]
    /// The batch's time: dispatch deadlines and event times.
    let now: Date
    /// Published outbox rows (of earlier batches) that this batch deletes with its writes.
    var deleting: [Int64] = []
    /// Dispatches and lifecycle events as written to the outbox (one row per ``apply(_:)``), to
    /// publish once the transaction commits.
    var outbox: [OutboxEntry] = []
    /// The namespaces of the tasks operator commands loaded (``loadSnapshot(forTasks:)``).
    var namespaces: [UUID: String] = [:]
    /// What the dispatches of children that the batch's completions may make ready carry,
    /// read with the locks (``LockBatchStatement``); ``apply(_:)`` reads only the rest.
    var preloadedDispatches: [UUID: PostgresStore.DispatchRow] = [:]

    var logger: Logger { store.logger }

    /// A batch whose statements run on `connection`; the caller commits.
    init(store: PostgresStore, connection: PostgresConnection, now: Date, deleting: [Int64] = []) {
        self.init(store: store, connection: connection, mode: .inTransaction, now: now, deleting: deleting)
    }

    /// A batch in `transaction` whose write call is the transaction's last statement.
    init(store: PostgresStore, committing transaction: PostgresTransaction, now: Date, deleting: [Int64] = []) {
        self.init(store: store, connection: transaction.connection, mode: .committing(transaction), now: now, deleting: deleting)
    }

    init(store: PostgresStore, connection: PostgresConnection, mode: Mode, now: Date, deleting: [Int64]) {
        self.store = store
        self.connection = connection
        self.mode = mode
        self.now = now
        self.deleting = deleting
    }

    /// Locks and loads the rows a batch of reports needs, in one statement: the tasks, then the
    /// reported steps, then the children of the steps reported completed, each in id order
    /// (the branches of a `UNION ALL` run one after another). Fan-in only follows completions:
    /// children of steps reported started or failed are not read, and only the completed
    /// steps' own children are: the cost of a completion does not depend on how many parents a
    /// join has or how wide the task is. Sort keys are left at 0: the insert adds the stored
    /// maximum, read after the locks are held.
    mutating func loadSnapshot(for reports: [StepResultMessage]) async throws -> WorkflowSnapshot {
        let keys = BatchRowKeys(reports)
        var rows: [LockBatchStatement.Row] = []
        if case .optimistic = mode {
            let read = ReadBatchStatement(keys: keys)
            for try await row in try await connection.execute(read, logger: logger) {
                if row.0 == 0 { readVersions[row.1] = row.15 }
                rows.append((row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10, row.11, row.12, row.13, row.14))
            }
        } else {
            let lock = LockBatchStatement(keys: keys)
            for try await row in try await connection.execute(lock, logger: logger) { rows.append(row) }
        }
        var tasks: [WorkflowSnapshot.Task] = []
        var steps: [StepResultLedger.Step] = []
        var children: [UUID: [UUID]] = [:]
        var childRows: [WorkflowSnapshot.Child] = []
        for row in rows {
            switch row.0 {
            case 0:
                tasks.append(.init(
                    id: row.1, state: try PostgresStore.decodeState(row.3),
                    progress: TaskProgress(total: row.5, done: row.6, failed: row.7, active: row.8)))
            case 1:
                steps.append(StepResultLedger.Step(
                    id: row.1, taskID: row.2 ?? row.1, name: row.4, state: try PostgresStore.decodeStepState(row.3), attempts: row.5,
                    retry: RetryPolicy(
                        retryable: row.9, maxAttempts: row.6,
                        backoff: BackoffPolicy(baseSeconds: row.10, maxSeconds: row.11, jitter: row.12)),
                    timeoutSeconds: row.13, lastSortKey: 0, attemptBase: row.7))
            default:
                guard let parent = UUID(uuidString: row.4) else { continue }
                children[parent, default: []].append(row.1)
                childRows.append(.init(
                    id: row.1, taskID: row.2 ?? row.1, state: try PostgresStore.decodeStepState(row.3), unfinishedParents: row.5))
                if let document = row.14 { preloadedDispatches[row.1] = try PostgresStore.DispatchRow(document: document) }
            }
        }
        return WorkflowSnapshot(tasks: tasks, steps: steps, children: children, childRows: childRows)
    }

    /// Applies the machine's decisions in one call of `tasker_apply_batch` (migration 0007):
    /// step rows and audit rows with the tasks' step counts, fan-in counts, the dispatched
    /// steps moved to `enqueued`, task moves, and the batch's messages as one outbox row.
    /// Reading what the dispatches carry is the only other statement, and only when the batch
    /// dispatches a step whose data the locking read did not bring (``preloadedDispatches``).
    mutating func apply(_ effects: WorkflowEffects) async throws {
        var rows = effects.stepRows
        var transitions = effects.transitions
        var batchMessages = try effects.events.filter { store.events.publishes($0.event) }
            .map { try OutboundMessage.event($0, topology: store.topology) }
        batchMessages += try await applyOperatorEffects(effects)
        // Dispatches: what they carry (context, handler, parents' results) is read under the
        // batch's locks; results decided in this batch are not written yet, so they are filled in.
        let decided = Dictionary(effects.stepRows.compactMap { row in row.results.map { (row.id, $0) } }, uniquingKeysWith: { _, last in last })
        let sources = Set(StepState.machine.sources(of: .enqueued))
        // A step this batch already moved (an operator's retry: error → pending) is dispatched
        // from its decided row, which becomes `enqueued`, with its audit row after the batch's.
        var changed = Dictionary(rows.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { _, last in last })
        let lastSortKey = Dictionary(transitions.map { ($0.stepID, $0.sortKey) }, uniquingKeysWith: max)
        let unread = effects.dispatch.filter { preloadedDispatches[$0] == nil }
        let dispatchRows = effects.dispatch.compactMap { preloadedDispatches[$0] } + (try await store.dispatchData(unread, on: connection))
        preloadedDispatches = [:]
        for var row in dispatchRows {
            let index = changed[row.stepID]
            if let index { row.state = rows[index].state }
            guard sources.contains(row.state) else { continue }
            for (parent, name) in row.parentNames { if let results = decided[parent] { row.parentResults[name] = results } }
            // The deadline of an enqueued attempt allows for its whole timeout after dispatch.
            let enqueuedRow = StepResultLedger.StepRow(
                id: row.stepID, state: .enqueued, attempts: row.attempts, deadline: now.addingTimeInterval(row.timeoutSeconds))
            if let index {
                rows[index] = enqueuedRow
            } else {
                changed[row.stepID] = rows.count
                rows.append(enqueuedRow)
            }
            transitions.append(StepResultLedger.Transition(
                stepID: row.stepID, taskID: row.taskID, from: row.state, to: .enqueued, sortKey: (lastSortKey[row.stepID] ?? 0) + 1))
            batchMessages.append(try OutboundMessage.dispatch(row.dispatch(now: now), topology: store.topology, messageID: store.clock.makeID()))
            if store.events.publishes(.stepEnqueued) {
                let enqueued = LifecycleEvent(
                    event: .stepEnqueued, eventID: store.clock.makeID(), occurredAt: now, taskID: row.taskID, stepID: row.stepID,
                    stepName: row.stepName, attempt: row.attempts + 1, maxAttempts: row.maxAttempts)
                batchMessages.append(try OutboundMessage.event(enqueued, topology: store.topology))
            }
        }
        let nothingToWrite = rows.isEmpty && effects.unfinishedParents.isEmpty && effects.taskMoves.isEmpty
            && batchMessages.isEmpty && deleting.isEmpty
        // A creating batch's write call also creates the tasks: it always runs.
        if nothingToWrite, !mode.creates { return }
        var outboxRow: Int64?
        let call = ApplyBatchStatement(
            rows: rows, transitions: transitions, unfinishedParents: effects.unfinishedParents,
            taskMoves: effects.taskMoves, messages: batchMessages, deletedOutbox: deleting, readVersions: readVersions)
        precondition(!committed, "a batch that commits writes once")
        switch mode {
        case .committing(let transaction):
            let rows = try await transaction.queryAndCommit(PostgresQuery(unsafeSQL: ApplyBatchStatement.sql, binds: try call.makeBindings()))
            committed = true
            outboxRow = try rows.first.flatMap { try $0.decode(Int64?.self) }
        case .creating(let create):
            for try await row in try await connection.execute(StartBatchStatement(create: create, apply: call), logger: logger) {
                outboxRow = row
            }
            committed = true
        case .optimistic:
            for try await row in try await connection.execute(call, logger: logger) { outboxRow = row }
            committed = true
        case .inTransaction:
            for try await row in try await connection.execute(call, logger: logger) { outboxRow = row }
        }
        deleting = []
        if let outboxRow { outbox += batchMessages.map { OutboxEntry(id: outboxRow, message: $0) } }
    }

    /// Deletes the published outbox rows that no write call of this batch took (a batch that
    /// decided nothing). Call it before the transaction commits.
    mutating func finish() async throws {
        guard !deleting.isEmpty else { return }
        precondition(!committed, "the write call took the deletions")
        try await connection.query("DELETE FROM outbox_batches WHERE id = ANY(\(deleting))", logger: logger)
        deleting = []
    }
}
