internal import Foundation
internal import Hummingbird
internal import Logging
internal import TaskerCore
internal import TaskerPostgres

/// `GET /ui/overview` (`tasks:read`): tasks by state, steps completed and failed per minute
/// over the last hour, the broker's queues (depth, consumers: the workers connected per
/// namespace) and dead letters, recent failures, running tasks. The page refreshes itself
/// in place every 5 s (app.js fetches it again and swaps `#overview`); with JS off, a
/// `<noscript>` refresh reloads it every 10 s.
struct DashboardOverview: Sendable {
    let dependencies: APIDependencies

    func render(_ session: DashboardSession, logger: Logger) async throws -> Response {
        let cap = 1_000
        var counts = ""
        for state in TaskState.allCases {
            let page = try await dependencies.tasks.list(TaskListFilter(states: [state]), limit: cap)
            let count = page.next == nil ? "\(page.items.count)" : "\(cap)+"
            counts += "<tr><td><a href=\"/ui/tasks?state=\(state.rawValue)\">\(DashboardPage.taskState(state))</a></td>"
                + "<td class=\"count\" data-state=\"\(state.rawValue)\">\(count)</td></tr>"
        }
        let chart = ThroughputChart(minutes: try await dependencies.tasks.stepOutcomesPerMinute(minutes: 60))
        let failures = try await dependencies.tasks.list(TaskListFilter(states: [.error]), limit: 10).items
        let running = try await dependencies.tasks.list(TaskListFilter(states: [.inProgress, .pending]), limit: 10).items
        let broker = await brokerPanel(session, logger: logger)
        let body = """
            <div id="overview" data-refresh-seconds="5">
            <p class="updated">Updated <time id="overview-updated">\(DashboardPage.time(Date()))</time></p>
            \(Self.throughputPanel(chart))
            <div class="columns">
            <section class="panel"><h2>Tasks by state</h2><table id="by-state"><tr><th>State</th><th>Tasks</th></tr>\(counts)</table></section>
            \(broker)
            </div>
            <section class="panel"><h2>Recent failures</h2>\(TaskListPage.table(failures, id: "recent-failures"))</section>
            <section class="panel"><h2>Running</h2>\(TaskListPage.table(running, id: "running"))</section>
            </div>
            """
        return DashboardPage.response(title: "Overview", session: session, body: body, refreshSeconds: 10)
    }

    static func throughputPanel(_ chart: ThroughputChart) -> String {
        let totals = chart.totals
        let rows = chart.tableRows()
        return """
            <section class="panel" id="throughput"><h2>Steps per minute, last hour</h2>
            <p>Last hour: <strong id="steps-completed" data-count="\(totals.completed)">\(totals.completed) completed</strong> (▲ above the line), \
            <strong id="steps-failed" data-count="\(totals.failed)">\(totals.failed) failed</strong> (▼ solid, below), \
            <strong id="steps-retried" data-count="\(totals.retried)">\(totals.retried) retried</strong> (▼ hatched: an attempt failed, another is scheduled).</p>
            <div class="chart-wrap">\(chart.render())</div>
            <details><summary>Per minute</summary>\(rows.isEmpty ? "<p>No step finished in the last hour.</p>" : """
            <table id="throughput-table"><thead><tr><th>Minute (UTC)</th><th>Completed</th><th>Failed</th><th>Retried</th></tr></thead><tbody>\(rows)</tbody></table>
            """)</details>
            </section>
            """
    }

    /// Workers connected per namespace, queue depths and the dead-letter count; a note instead
    /// when the broker cannot be asked right now.
    private func brokerPanel(_ session: DashboardSession, logger: Logger) async -> String {
        let statuses: [QueueStatus]
        do {
            statuses = try await dependencies.broker.queueStatus(namespaces: try await dependencies.templates.namespaces())
        } catch {
            logger.debug("overview: queue status unavailable", metadata: ["error": "\(String(reflecting: error))"])
            return "<section class=\"panel\" id=\"broker\"><h2>Workers and queues</h2><p class=\"error-box\" id=\"broker-unavailable\">"
                + "The message broker cannot be asked right now.</p></section>"
        }
        return Self.brokerPanel(statuses, deadLetterLink: session.principal.has(.dlqOperate))
    }

    static func brokerPanel(_ statuses: [QueueStatus], deadLetterLink: Bool) -> String {
        func number(_ value: Int?) -> String { value.map(String.init) ?? "—" }
        var workers = ""
        var queues = ""
        var deadLetters = "—"
        var undeclared: [String] = []
        for status in statuses {
            let role: String
            if case .steps(let namespace) = status.role, status.consumers == nil {
                undeclared.append(namespace)  // nobody declared its queue: no worker has served it yet
                continue
            }
            switch status.role {
            case .steps(let namespace):
                role = "steps of \(namespace)"
                workers += "<tr data-namespace=\"\(HTML.escape(namespace))\"><td>\(HTML.escape(namespace))</td>"
                    + "<td class=\"workers\">\(number(status.consumers))</td></tr>"
            case .requests: role = "task requests"
            case .results: role = "step results"
            case .reenqueue: role = "retries due"
            case .deadLetters:
                role = "dead letters"
                deadLetters = number(status.messages)
            }
            queues += "<tr class=\"queue\" data-queue=\"\(HTML.escape(status.name))\"><td><code>\(HTML.escape(status.name))</code></td><td>\(role)</td>"
                + "<td class=\"messages\">\(number(status.messages))</td><td class=\"consumers\">\(number(status.consumers))</td></tr>"
        }
        let dlq = deadLetterLink ? "<a href=\"/ui/dlq\">\(deadLetters)</a>" : deadLetters
        return """
            <section class="panel" id="broker"><h2>Workers and queues</h2>
            <p>Dead letters: <strong id="dead-letter-count">\(dlq)</strong></p>
            <table id="workers"><thead><tr><th>Namespace</th><th>Workers connected</th></tr></thead><tbody>\(workers)</tbody></table>
            <p class="hint">A worker consumes its namespaces' step queues: the consumers of a step queue are the workers serving it.</p>
            \(undeclared.isEmpty ? "" : "<p class=\"hint\" id=\"no-step-queue\">No step queue yet (no worker has served them): \(HTML.escape(undeclared.joined(separator: ", "))).</p>")
            <table id="queues"><thead><tr><th>Queue</th><th>Holds</th><th>Messages</th><th>Consumers</th></tr></thead><tbody>\(queues)</tbody></table>
            </section>
            """
    }
}
