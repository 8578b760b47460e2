internal import Foundation
internal import TaskerCore
internal import TaskerPostgres

/// One task: header (state, template, timing, actions), its DAG (live while it runs) and the
/// selected step's panel (results or error, attempts, audit trail, retry and resolve).
struct TaskPage {
    let view: TaskView
    let session: DashboardSession
    let selected: (step: StepRecord, transitions: [AuditEntry])?
    /// The task's own transitions, oldest first.
    let taskTrail: [AuditEntry]
    let notice: String?

    var taskID: String { view.task.id.uuidString.lowercased() }
    var canOperate: Bool { session.principal.has(.tasksOperate) }

    func render() -> String {
        let task = view.task
        let noticeBox = notice.map { "<p class=\"notice\" id=\"notice\" role=\"status\">\(HTML.escape($0))</p>" } ?? ""
        return """
            \(noticeBox)
            <section class="panel" id="task-header">
            <dl>
            <dt>Task</dt><dd id="task-id">\(taskID)</dd>
            <dt>State</dt><dd>\(DashboardPage.taskState(task.state, id: "task-state"))</dd>
            <dt>Template</dt><dd>\(HTML.escape(task.template.description))</dd>
            <dt>Steps</dt><dd id="task-steps">\(Self.stepsSummary(task.counts))</dd>
            <dt>Created</dt><dd>\(DashboardPage.time(task.createdAt))</dd>
            <dt>Updated</dt><dd id="task-updated">\(DashboardPage.time(task.updatedAt))</dd>
            <dt>Completed</dt><dd id="task-completed">\(DashboardPage.time(task.completedAt))</dd>
            </dl>
            \(taskActions())
            </section>
            <section id="live" data-live-url="/ui/tasks/\(taskID)/live" data-finished="\(task.state.isFinished)">
            <h2>Steps</h2>
            <div class="dag-wrap" id="dag">\(Self.diagram(view, selected: selected?.step.name))</div>
            </section>
            \(stepPanel())
            <section class="panel"><h2>Task audit trail</h2><ol id="task-audit-trail">\(Self.trail(taskTrail))</ol></section>
            """
    }

    /// Audit entries as list items: time, from → to, metadata (actor, reason, error).
    static func trail(_ entries: [AuditEntry]) -> String {
        var items = ""
        for entry in entries {
            items += """
                <li class="audit-entry" data-to-state="\(HTML.escape(entry.toState))"><time>\(DashboardPage.time(entry.createdAt))</time>: \
                \(HTML.escape(entry.fromState ?? "—")) → <strong>\(HTML.escape(entry.toState))</strong> \
                <code>\(HTML.escape(entry.metadata.canonicalString))</code></li>
                """
        }
        return items
    }

    static func diagram(_ view: TaskView, selected: String?) -> String {
        let nodes = view.steps.map { DAGDiagram.Node(name: $0.name, parents: $0.parents, state: $0.state, attempts: $0.attempts) }
        return DAGDiagram(nodes: nodes, link: { "?step=\(HTML.query($0))" }, selected: selected).render()
    }

    private func form(_ path: String, button: String, id: String, reason: String, extra: String = "", whileRunning: Bool = false) -> String {
        """
        <form method="post" action="\(HTML.escape(path))" class="action"\(whileRunning ? " data-while-running" : "")>\(DashboardPage.csrfField(session))\(extra)
        <label for="\(id)-reason">Reason</label><input id="\(id)-reason" name="reason" required value="\(HTML.escape(reason))" size="40">
        <button type="submit" id="\(id)">\(HTML.escape(button))</button></form>
        """
    }

    private func taskActions() -> String {
        guard canOperate else { return "" }
        var forms = ""
        if !view.task.state.isFinished {
            forms += form("/ui/tasks/\(taskID)/cancel", button: "Cancel task", id: "cancel-task", reason: "cancelled from the dashboard", whileRunning: true)
        }
        if view.task.state == .error {
            forms += form("/ui/tasks/\(taskID)/retry", button: "Retry task", id: "retry-task", reason: "retried from the dashboard")
        }
        return forms.isEmpty ? "" : "<div class=\"actions\">\(forms)</div>"
    }

    private func stepPanel() -> String {
        guard let selected else {
            return "<p>Select a step in the DAG to see its results, attempts and audit trail.</p>"
        }
        let step = selected.step, transitions = selected.transitions
        let base = "/ui/tasks/\(taskID)/steps/\(HTML.pathSegment(step.name))"
        var actions = ""
        if canOperate && (step.state == .error || step.state == .waitingForRetry) {
            actions += form("\(base)/retry", button: "Retry step", id: "retry-step", reason: "retried from the dashboard")
            actions += form(
                "\(base)/resolve", button: "Resolve step", id: "resolve-step", reason: "resolved from the dashboard",
                extra: "<label for=\"resolve-results\">Results (JSON)</label><textarea id=\"resolve-results\" name=\"results\" rows=\"4\">{}</textarea>")
        }
        let trail = Self.trail(transitions)
        return """
            <section class="panel" id="step-panel" data-step="\(HTML.escape(step.name))">
            <h2>Step \(HTML.escape(step.name))</h2>
            <dl>
            <dt>State</dt><dd><span class="state state-\(step.state.rawValue)" id="step-state">\(DAGDiagram.glyph(step.state)) \(HTML.escape(DAGDiagram.label(step.state)))</span></dd>
            <dt>Handler</dt><dd>\(HTML.escape(step.handler))</dd>
            <dt>Attempts</dt><dd id="step-attempts">\(step.attempts) of at most \(step.retry.maxAttempts)</dd>
            <dt>Depends on</dt><dd>\(HTML.escape(step.parents.isEmpty ? "—" : step.parents.joined(separator: ", ")))</dd>
            <dt>Updated</dt><dd>\(DashboardPage.time(step.updatedAt))</dd>
            </dl>
            <h3>Results</h3><pre id="step-results">\(DashboardPage.json(step.results))</pre>
            <h3>Last error</h3><pre id="step-error">\(DashboardPage.json(step.lastError))</pre>
            \(actions.isEmpty ? "" : "<div class=\"actions\">\(actions)</div>")
            <h3>Audit trail</h3><ol id="audit-trail">\(trail)</ol>
            </section>
            """
    }

    /// "2/4 done, 0 failed, 1 active": the header's step counts (also sent by the live JSON).
    static func stepsSummary(_ counts: StepCounts) -> String {
        "\(counts.done)/\(counts.total) done, \(counts.error) failed, \(counts.active) active"
    }
}
