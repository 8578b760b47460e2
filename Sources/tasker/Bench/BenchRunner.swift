import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TaskerAMQP
import TaskerCore
import TaskerPostgres
import TaskerServices

/// Runs the benchmark scenarios against a running in-process pipeline.
struct BenchRunner: Sendable {
    let client: PostgresClient
    let store: PostgresStore
    let amqp: AMQPConfiguration
    let topology: WireTopology
    let namespace: String
    let logger: Logger

    struct Throughput {
        var seconds: Double
        var tasksPerSecond: Double
        var stepsPerSecond: Double
    }

    /// Submits `count` tasks of `template` at once and waits until all are complete; the end is
    /// the last task's `completed_at`, so the polling interval does not count.
    func throughput(tasks count: Int, template: String = "diamond", stepsPerTask: Int = 4) async throws -> Throughput {
        let start = Date()
        let ids = try await submit(Array(repeating: template, count: count)).map(\.id)
        try await waitForCompletion(of: ids, timeout: .seconds(600))
        var end: Date?
        let rows = try await client.query("SELECT max(completed_at) FROM tasks WHERE id = ANY(\(ids))", logger: logger)
        for try await last in rows.decode(Date?.self) { end = last }
        let seconds = (end ?? Date()).timeIntervalSince(start)
        return Throughput(
            seconds: seconds, tasksPerSecond: Double(count) / seconds, stepsPerSecond: Double(count * stepsPerTask) / seconds)
    }

    struct Latency {
        var stage: LatencySummary
        /// A stage split where the finalizer records step n's result (its write's transaction
        /// begins): before, the result's broker hop, its wait for a batch and the batch's read;
        /// after, the write and commit, the dispatch's publish, its broker hop and the worker's start.
        var stageSplit: SplitLatency
        var creation: LatencySummary
        /// Creation split where the coordinator's call stores the task (its transaction begins):
        /// before, the request's broker hop; after, the call and commit, the dispatch's publish,
        /// its broker hop and the worker's start.
        var creationSplit: SplitLatency
        var endToEnd: LatencySummary
    }

    /// A latency split at the start of the database transaction that recorded it (`now()`).
    struct SplitLatency {
        var before: LatencySummary
        var after: LatencySummary
    }

    /// Runs linear tasks one after another and reads the stage timings from the audit trail: the
    /// times workers reported (`reported_at`: handler started, result published), so a stage is
    /// "step n's result published → step n+1's handler starts".
    func latency(tasks: Int) async throws -> Latency {
        // One connection and reply queue for every request, as a service that submits tasks keeps
        // them: a new connection per request measured the broker's channel set-up too.
        let submitted: [(UUID, Date)] = try await withRequestClient { requests in
            var submitted: [(UUID, Date)] = []
            for _ in 0..<tasks {
                let (id, at) = try await self.submit(["linear"], through: requests)[0]
                try await self.waitForCompletion(of: [id], timeout: .seconds(60))
                submitted.append((id, at))
            }
            return submitted
        }
        let rows = try await client.query(
            """
            SELECT s.task_id, s.position, st.to_state,
                   COALESCE(to_timestamp((st.metadata->>'reported_at')::float8), st.created_at), st.created_at, t.created_at
            FROM steps s JOIN step_transitions st ON st.step_id = s.id JOIN tasks t ON t.id = s.task_id
            WHERE s.task_id = ANY(\(submitted.map(\.0))) AND st.to_state IN ('in_progress', 'complete')
            """,
            logger: logger
        )
        var times: [UUID: [Int: [String: Date]]] = [:]
        // When each step's completion was recorded and each task stored (their transactions' start, `now()`).
        var recorded: [UUID: [Int: Date]] = [:]
        var stored: [UUID: Date] = [:]
        for try await (task, position, state, at, createdAt, taskCreatedAt) in rows.decode((UUID, Int, String, Date, Date, Date).self) {
            times[task, default: [:]][position, default: [:]][state] = at
            if state == "complete" { recorded[task, default: [:]][position] = createdAt }
            stored[task] = taskCreatedAt
        }
        var stage: [Double] = []
        var toRecord: [Double] = []
        var fromRecord: [Double] = []
        var toStore: [Double] = []
        var fromStore: [Double] = []
        var creation: [Double] = []
        var endToEnd: [Double] = []
        for (task, submittedAt) in submitted {
            guard let steps = times[task] else { continue }
            for position in 0..<3 {
                if let done = steps[position]?["complete"], let next = steps[position + 1]?["in_progress"] {
                    stage.append(next.timeIntervalSince(done) * 1_000)
                    if let record = recorded[task]?[position] {
                        toRecord.append(record.timeIntervalSince(done) * 1_000)
                        fromRecord.append(next.timeIntervalSince(record) * 1_000)
                    }
                }
            }
            if let first = steps[0]?["in_progress"] {
                creation.append(first.timeIntervalSince(submittedAt) * 1_000)
                if let storedAt = stored[task] {
                    toStore.append(storedAt.timeIntervalSince(submittedAt) * 1_000)
                    fromStore.append(first.timeIntervalSince(storedAt) * 1_000)
                }
            }
            if let last = steps[3]?["complete"] { endToEnd.append(last.timeIntervalSince(submittedAt) * 1_000) }
        }
        return Latency(
            stage: LatencySummary(stage),
            stageSplit: SplitLatency(before: LatencySummary(toRecord), after: LatencySummary(fromRecord)),
            creation: LatencySummary(creation),
            creationSplit: SplitLatency(before: LatencySummary(toStore), after: LatencySummary(fromStore)),
            endToEnd: LatencySummary(endToEnd))
    }

    /// One task fanning out to `width` steps that join; returns seconds from submit to the task's
    /// `completed_at` (so the polling interval does not count).
    func width(_ width: Int) async throws -> Double {
        try await throughput(tasks: 1, template: "fan_\(width)", stepsPerTask: width + 2).seconds
    }

    /// Sequential single-row transactions on one connection: what one commit costs here.
    func commitRate(count: Int) async throws -> Double {
        try await client.query("CREATE TEMP TABLE IF NOT EXISTS bench_commits (id int)", logger: logger)
        return try await client.withConnection { connection in
            try await connection.query("CREATE TEMP TABLE IF NOT EXISTS bench_commits (id int)", logger: logger)
            let start = ContinuousClock.now
            for index in 0..<count {
                try await connection.query("INSERT INTO bench_commits VALUES (\(index))", logger: logger)
            }
            return Double(count) / (ContinuousClock.now - start).seconds
        }
    }

    /// Sequential `SELECT 1` exchanges on one connection, from the connection's event loop (as the
    /// pipeline's batches run): what one exchange with PostgreSQL costs through postgres-nio.
    func roundTrip(count: Int) async throws -> LatencySummary {
        let logger = self.logger
        return LatencySummary(try await store.database.onConnectionLoop { connection in
            var samples: [Double] = []
            samples.reserveCapacity(count)
            for _ in 0..<count {
                let start = ContinuousClock.now
                for try await _ in try await connection.query("SELECT 1", logger: logger) {}
                samples.append((ContinuousClock.now - start).seconds * 1_000)
            }
            return samples
        })
    }

    /// Submits one task per name, at most 500 in flight; returns ids and submission times.
    private func submit(_ names: [String]) async throws -> [(id: UUID, at: Date)] {
        try await withRequestClient { requests in try await self.submit(names, through: requests) }
    }

    /// Runs `body` with a task-request client on a connection of its own.
    private func withRequestClient<T: Sendable>(_ body: @escaping @Sendable (TaskRequestClient) async throws -> T) async throws -> T {
        try await AMQPConnection.withConnection(configuration: amqp, logger: logger) { connection in
            try await TaskRequestClient.withClient(connection: connection, topology: topology, logger: logger, body)
        }
    }

    private func submit(_ names: [String], through requests: TaskRequestClient) async throws -> [(id: UUID, at: Date)] {
        let namespace = self.namespace
        return try await withThrowingTaskGroup(of: (UUID, Date).self) { group in
            var results: [(id: UUID, at: Date)] = []
            var pending = names[...]
            var inFlight = 0
            while let name = pending.popFirst() {
                if inFlight >= 500, let done = try await group.next() {
                    results.append(done)
                    inFlight -= 1
                }
                group.addTask {
                    let at = Date()
                    let reply = try await requests.submit(TaskRequest(namespace: namespace, name: name, context: [:]), timeout: .seconds(120))
                    guard let id = reply.taskID, reply.status == .created else {
                        throw ValidationError("request rejected: \(reply.errors)")
                    }
                    return (id, at)
                }
                inFlight += 1
            }
            for try await done in group { results.append(done) }
            return results
        }
    }

    private func waitForCompletion(of ids: [UUID], timeout: Duration) async throws {
        let start = ContinuousClock.now
        while true {
            let rows = try await client.query(
                "SELECT count(*)::int8 FROM tasks WHERE id = ANY(\(ids)) AND state IN ('complete', 'error', 'cancelled')", logger: logger)
            var finished = 0
            for try await count in rows.decode(Int.self) { finished = count }
            if finished == ids.count { return }
            if ContinuousClock.now - start > timeout { throw ValidationError("\(ids.count - finished) tasks unfinished after \(timeout)") }
            try await Task.sleep(for: .milliseconds(ids.count == 1 ? 5 : 200))
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
