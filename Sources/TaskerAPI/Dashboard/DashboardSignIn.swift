internal import Foundation
internal import Hummingbird
internal import Logging

/// `GET/POST /ui/login` and `POST /ui/logout`.
struct DashboardSignIn: Sendable {
    let sessions: DashboardSessions
    let cookies: DashboardCookies
    let authenticator: Authenticator

    func register(on ui: RouterGroup<APIRequestContext>) {
        ui.get("login") { request, _ in
            if sessions.current(request) != nil { return Response(status: .seeOther, headers: [.location: "/ui/overview"]) }
            return DashboardPage.login(error: nil)
        }
        ui.post("login") { request, context in try await signIn(request, context) }
        ui.post("logout") { request, context in try await signOut(request, context) }
    }

    /// Checks the pasted API key exactly as the API checks `X-API-Key`, then starts a session.
    func signIn(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let form = try await DashboardForm.read(request, context: context)
        guard let key = form.text("api_key") else { return DashboardPage.login(error: "Paste an API key.", status: .badRequest) }
        let principal: Principal
        do {
            principal = try authenticator.authenticate([Authenticator.apiKeyHeader: key])
        } catch {
            context.logger.info("dashboard sign-in refused")
            return DashboardPage.login(error: "That API key is not valid.", status: .unauthorized)
        }
        let session = sessions.create(for: principal)
        context.logger.info("dashboard sign-in", metadata: ["tasker.api.caller": "\(principal.name)"])
        return Response(status: .seeOther, headers: [.location: "/ui/overview", .setCookie: cookies.set(session), .cacheControl: "no-store"])
    }

    func signOut(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        guard let session = sessions.current(request) else {
            return Response(status: .seeOther, headers: [.location: "/ui/login", .setCookie: cookies.clear()])
        }
        let form = try await DashboardForm.read(request, context: context)
        guard DashboardActionRoutes.validToken(form, session) else {
            return DashboardPage.message(.forbidden, title: "Refused", "The form's CSRF token is missing or wrong.", session: session)
        }
        sessions.delete(session.id)
        return Response(status: .seeOther, headers: [.location: "/ui/login", .setCookie: cookies.clear()])
    }
}
