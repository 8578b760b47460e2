internal import Hummingbird
internal import Logging

/// The checks every dashboard POST makes before it acts, whatever the page showed: a live
/// session, the session's own CSRF token in the form (compared in constant time), and the
/// scope the action needs.
enum DashboardActionGuard {
    enum Verdict {
        /// Go ahead, as this session, with this form.
        case allowed(DashboardSession, DashboardForm)
        /// The page to answer instead (401, 403).
        case refused(Response)
    }

    static func check(_ request: Request, _ context: APIRequestContext, sessions: DashboardSessions, scope: APIScope) async throws -> Verdict {
        guard let session = sessions.current(request) else {
            return .refused(
                DashboardPage.message(.unauthorized, title: "Sign in", "Sign in first: your session is missing or has expired.", session: nil, back: "/ui/login"))
        }
        let form = try await DashboardForm.read(request, context: context)
        guard validToken(form, session) else {
            context.logger.warning("dashboard action refused: CSRF token missing or wrong", metadata: ["tasker.api.caller": "\(session.principal.name)"])
            return .refused(DashboardPage.message(.forbidden, title: "Refused", "The form's CSRF token is missing or wrong.", session: session))
        }
        guard session.principal.has(scope) else {
            return .refused(DashboardPage.message(.forbidden, title: "Refused", "Your key lacks the scope \(scope.rawValue).", session: session))
        }
        return .allowed(session, form)
    }

    /// Whether the form carries the session's CSRF token (compared in constant time).
    static func validToken(_ form: DashboardForm, _ session: DashboardSession) -> Bool {
        guard let token = form["csrf_token"] else { return false }
        return ConstantTime.equal(Array(token.utf8), Array(session.csrfToken.utf8))
    }
}
