internal import Foundation
internal import Hummingbird
internal import Logging
internal import TaskerCore

/// The dashboard's operator actions: `POST /ui/tasks/{task_id}/cancel|retry` and
/// `POST /ui/tasks/{task_id}/steps/{step}/retry|resolve`.
///
/// Each is checked here, whatever the page showed: a live session, the session's CSRF token in
/// the form, and the `tasks:operate` scope; then the same ``TaskActionPerforming`` as the API's
/// `/v1` action endpoints does the work, with the session's principal as the actor.
struct DashboardActionRoutes: Sendable {
    let actions: (any TaskActionPerforming)?
    let sessions: DashboardSessions
    let cookies: DashboardCookies

    func register(on ui: RouterGroup<APIRequestContext>) {
        ui.post("tasks/{task_id}/cancel") { request, context in try await perform(request, context) { _, _ in .cancelTask } }
        ui.post("tasks/{task_id}/retry") { request, context in try await perform(request, context) { _, _ in .retryTask } }
        ui.post("tasks/{task_id}/steps/{step}/retry") { request, context in
            try await perform(request, context) { _, step in .retryStep(step: step ?? "") }
        }
        ui.post("tasks/{task_id}/steps/{step}/resolve") { request, context in
            try await perform(request, context) { form, step in
                guard let text = form.text("results") else { throw FormProblem("Give the step's results as JSON.") }
                guard let results = try? JSONValue.parse(text) else { throw FormProblem("The results are not valid JSON.") }
                return .resolveStep(step: step ?? "", results: results)
            }
        }
    }

    struct FormProblem: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// Whether the form carries the session's CSRF token (compared in constant time).
    static func validToken(_ form: DashboardForm, _ session: DashboardSession) -> Bool {
        guard let token = form["csrf_token"] else { return false }
        return ConstantTime.equal(Array(token.utf8), Array(session.csrfToken.utf8))
    }

    private func perform(
        _ request: Request, _ context: APIRequestContext, _ action: (DashboardForm, String?) throws -> TaskActionRequest.Action
    ) async throws -> Response {
        guard let session = sessions.current(request) else {
            return DashboardPage.message(.unauthorized, title: "Sign in", "Sign in first: your session is missing or has expired.", session: nil, back: "/ui/login")
        }
        let form = try await DashboardForm.read(request, context: context)
        guard Self.validToken(form, session) else {
            context.logger.warning("dashboard action refused: CSRF token missing or wrong", metadata: ["tasker.api.caller": "\(session.principal.name)"])
            return DashboardPage.message(.forbidden, title: "Refused", "The form's CSRF token is missing or wrong.", session: session)
        }
        guard session.principal.has(.tasksOperate) else {
            return DashboardPage.message(.forbidden, title: "Refused", "Your key lacks the scope tasks:operate.", session: session)
        }
        guard let taskText = context.parameters.get("task_id"), let taskID = UUID(uuidString: taskText) else {
            return DashboardPage.message(.notFound, title: "Not found", "No such task.", session: session)
        }
        let step = context.parameters.get("step")
        let back = "/ui/tasks/\(taskID.uuidString.lowercased())" + (step.map { "?step=\(HTML.query($0))" } ?? "")
        guard let actions else {
            return DashboardPage.message(.notImplemented, title: "Unavailable", "Operator actions are not available on this server.", session: session, back: back)
        }
        let reason = form.text("reason") ?? ""
        guard !reason.isEmpty, reason.count <= 2_000 else {
            return DashboardPage.message(.unprocessableContent, title: "Not done", "Say why (a reason of at most 2000 characters): it goes into the audit trail.", session: session, back: back)
        }
        let chosen: TaskActionRequest.Action
        do {
            chosen = try action(form, step)
        } catch let problem as FormProblem {
            return DashboardPage.message(.unprocessableContent, title: "Not done", problem.message, session: session, back: back)
        }
        let result = try await actions.perform(TaskActionRequest(taskID: taskID, action: chosen, actor: session.principal.name, reason: reason))
        switch result.status {
        case .applied, .alreadyApplied:
            let separator = back.contains("?") ? "&" : "?"
            return Response(status: .seeOther, headers: [.location: back + "\(separator)notice=\(HTML.query(result.message))"])
        case .refused:
            return DashboardPage.message(.conflict, title: "Refused", result.message, session: session, back: back)
        case .notFound:
            return DashboardPage.message(.notFound, title: "Not found", result.message, session: session, back: back)
        case .invalid:
            return DashboardPage.message(.unprocessableContent, title: "Not done", result.message, session: session, back: back)
        }
    }
}
