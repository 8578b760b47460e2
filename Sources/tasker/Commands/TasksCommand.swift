import ArgumentParser
import Foundation
import Logging
import TaskerAPI
import TaskerCore
import TaskerPostgres
import TaskerRuntime

/// `tasker tasks [--state error] [--namespace ns] [--name n] [--limit 20] [--after token] [--json]`:
/// the newest tasks first, as `GET /v1/tasks` lists them, to find the task an operator acts on.
struct TasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "List tasks, newest first (filter by state, namespace, template name).",
        discussion: """
            One line per task: id, state, template, steps done/total (and failed), created. \
            A page ends with the --after token of the next one when there are more. \
            --json prints the API's list document (docs/api.md, GET /v1/tasks).
            """
    )

    @OptionGroup var logging: LoggingOptions
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only tasks in these states, comma-separated (e.g. error,in_progress).") var state: String?
    @Option(help: "Only this namespace.") var namespace: String?
    @Option(help: "Only this template name.") var name: String?
    @Option(help: "At most this many tasks (1 to 500).") var limit = 20
    @Option(help: "Continue after this token (printed at the end of the previous page).") var after: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard (1...500).contains(limit) else { throw ValidationError("--limit must be from 1 to 500") }
        if let after, KeysetCursor(token: after) == nil { throw ValidationError("--after is not a token this command printed") }
        _ = try states()
    }

    private func states() throws -> [TaskState]? {
        guard let state else { return nil }
        do {
            return try TaskState.named(state.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        } catch {
            throw ValidationError("--state: '\(error.name)' is not one of \(TaskState.allNames)")
        }
    }

    func run() async throws {
        let logger = logging.makeLogger(label: "tasker.tasks", default: .warning)
        let filter = TaskListFilter(states: try states(), namespace: namespace, name: name)
        let cursor = after.flatMap(KeysetCursor.init(token:))
        let limit = limit
        let page = try await database.withDatabase(logger: logger) { database in
            try await TaskQueries(database: database, logger: logger).list(filter, limit: limit, after: cursor)
        }
        if json {
            print(TaskPresenter.list(page).canonicalString)
            return
        }
        print(Self.text(page.items))
        if let next = page.next { print("more: --after \(next.token)") }
    }

    /// One aligned line per task.
    static func text(_ tasks: [TaskRecord]) -> String {
        guard !tasks.isEmpty else { return "no tasks" }
        return tasks.map { task in
            let counts = task.counts
            let steps = "\(counts.done)/\(counts.total)" + (counts.error > 0 ? ", \(counts.error) failed" : "")
            return [
                task.id.uuidString.lowercased(),
                task.state.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0),
                "\(task.template)".padding(toLength: 32, withPad: " ", startingAt: 0),
                steps.padding(toLength: 14, withPad: " ", startingAt: 0),
                WireTimestamp.string(from: task.createdAt),
            ].joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
