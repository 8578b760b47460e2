internal import Foundation
internal import Hummingbird
internal import Logging
internal import TaskerCore

/// The dashboard's operator actions: `POST /ui/tasks/{task_id}/cancel|retry` and
/// `POST /ui/tasks/{task_id}/steps/{step}/retry|resolve`.
///
/// Each is checked here (``DashboardActionGuard``: session, CSRF token, `tasks:operate`); then
/// the same ``TaskActionPerforming`` as the API's `/v1` action endpoints does the work, with
/// the session's principal as the actor.
struct DashboardActionRoutes: Sendable {
    let actions: (any TaskActionPerforming)?
    let sessions: DashboardSessions
    let cookies: DashboardCookies

    func register(on ui: RouterGroup<APIRequestContext>) {
        ui.post("tasks/{task_id}/cancel") { request, context in try await perform(request, context) { _, _ in .cancelTask } }
        ui.post("tasks/{task_id}/retry") { request, context in try await perform(request, context) { _, _ in .retryTask } }
        ui.post("tasks/{task_id}/steps/{step}/retry") { request, context in
            try await perform(request, context) { _, step in .retryStep(.init(step ?? "")) }
        }
        ui.post("tasks/{task_id}/steps/{step}/resolve") { request, context in
            try await perform(request, context) { form, step in
                guard let text = form.text("results") else { throw FormProblem("Give the step's results as JSON.") }
                guard let results = try? JSONValue.parse(text) else { throw FormProblem("The results are not valid JSON.") }
                return .resolveStep(.init(step ?? ""), results: results)
            }
        }
    }

    struct FormProblem: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// Whether the form carries the session's CSRF token (compared in constant time).
    static func validToken(_ form: DashboardForm, _ session: DashboardSession) -> Bool {
        DashboardActionGuard.validToken(form, session)
    }

    /// The form's reason, or the page saying it is missing or too long.
    static func reason(_ form: DashboardForm, session: DashboardSession, back: String) -> Result<String, Response.Refusal> {
        let reason = form.text("reason") ?? ""
        guard !reason.isEmpty, reason.count <= OperatorCommand.maximumReasonLength else {
            return .failure(Response.Refusal(DashboardPage.message(
                .unprocessableContent, title: "Not done", "Say why (a reason of at most 2000 characters): it goes into the audit trail.",
                session: session, back: back)))
        }
        return .success(reason)
    }

    private func perform(
        _ request: Request, _ context: APIRequestContext, _ action: (DashboardForm, String?) throws -> OperatorCommand.Action
    ) async throws -> Response {
        let session: DashboardSession, form: DashboardForm
        switch try await DashboardActionGuard.check(request, context, sessions: sessions, scope: .tasksOperate) {
        case .refused(let page): return page
        case .allowed(let allowedSession, let allowedForm): (session, form) = (allowedSession, allowedForm)
        }
        guard let taskText = context.parameters.get("task_id"), let taskID = UUID(uuidString: taskText) else {
            return DashboardPage.message(.notFound, title: "Not found", "No such task.", session: session)
        }
        let step = context.parameters.get("step")
        let back = "/ui/tasks/\(taskID.uuidString.lowercased())" + (step.map { "?step=\(HTML.query($0))" } ?? "")
        guard let actions else {
            return DashboardPage.message(.notImplemented, title: "Unavailable", "Operator actions are not available on this server.", session: session, back: back)
        }
        let reason: String
        switch Self.reason(form, session: session, back: back) {
        case .failure(let refusal): return refusal.page
        case .success(let text): reason = text
        }
        let chosen: OperatorCommand.Action
        do {
            chosen = try action(form, step)
        } catch let problem as FormProblem {
            return DashboardPage.message(.unprocessableContent, title: "Not done", problem.message, session: session, back: back)
        }
        let result = try await actions.perform(OperatorCommand(taskID: taskID, action: chosen, actor: session.principal.name, reason: reason))
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

extension Response {
    /// A page answered instead of doing something (as a `Result` failure).
    struct Refusal: Error {
        let page: Response
        init(_ page: Response) { self.page = page }
    }
}
