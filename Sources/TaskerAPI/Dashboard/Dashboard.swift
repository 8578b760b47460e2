public import Hummingbird
public import Foundation
internal import NIOCore

/// How the dashboard sets its session cookie.
public struct DashboardConfiguration: Sendable {
    /// Mark the session cookie `Secure` (sent over HTTPS only).
    public var secureCookies: Bool
    /// How long a session lasts after sign-in.
    public var sessionLifetime: TimeInterval

    public init(secureCookies: Bool, sessionLifetime: TimeInterval = 8 * 3600) {
        self.secureCookies = secureCookies
        self.sessionLifetime = sessionLifetime
    }

    /// The environment variable forcing the `Secure` attribute on or off (`true`/`false`).
    public static let secureCookiesVariable = "TASKER_DASHBOARD_SECURE_COOKIES"

    /// `Secure` cookies unless the API listens on loopback (plain http on the same machine), or
    /// as ``secureCookiesVariable`` says.
    public static func forHost(_ host: String, environment: [String: String]) -> DashboardConfiguration {
        if let forced = environment[secureCookiesVariable]?.lowercased(), ["true", "false", "1", "0"].contains(forced) {
            return DashboardConfiguration(secureCookies: forced == "true" || forced == "1")
        }
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        return DashboardConfiguration(secureCookies: !loopback)
    }
}

/// The web dashboard (docs/dashboard.md), served under `/ui` by `tasker api`: server-rendered
/// HTML, signed in with an API key, then an opaque session cookie.
///
/// ```swift
/// APIServer(configuration: configuration, database: pool, logger: logger, extendRouter: { router, dependencies in
///     Dashboard.register(on: router, dependencies: dependencies, authenticator: authenticator, configuration: .forHost(host, environment: env))
/// })
/// ```
public enum Dashboard {
    /// Adds the `/ui` routes.
    public static func register(
        on router: Router<APIRequestContext>, dependencies: APIDependencies, authenticator: Authenticator, configuration: DashboardConfiguration
    ) {
        let sessions = DashboardSessions(lifetime: configuration.sessionLifetime)
        let cookies = DashboardCookies(secure: configuration.secureCookies, lifetime: configuration.sessionLifetime)
        let ui = router.group("ui")
        ui.get { _, _ in Response(status: .seeOther, headers: [.location: "/ui/overview"]) }
        ui.get("assets/app.css") { _, _ in asset(DashboardAssets.css, type: "text/css; charset=utf-8") }
        ui.get("assets/app.js") { _, _ in asset(DashboardAssets.js, type: "text/javascript; charset=utf-8") }
        DashboardSignIn(sessions: sessions, cookies: cookies, authenticator: authenticator).register(on: ui)
        DashboardReadRoutes(dependencies: dependencies, sessions: sessions, cookies: cookies).register(on: ui)
        DashboardActionRoutes(actions: dependencies.actions, sessions: sessions, cookies: cookies).register(on: ui)
        DashboardBulkActions(actions: dependencies.actions, sessions: sessions).register(on: ui)
        DashboardDeadLetters(dependencies: dependencies, sessions: sessions).register(on: ui)
    }

    private static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The session cookie: `tasker_session`, opaque, `HttpOnly`, `SameSite=Strict`, path `/ui`,
/// `Secure` as configured.
struct DashboardCookies: Sendable {
    static let name = "tasker_session"
    let secure: Bool
    let lifetime: TimeInterval

    func set(_ session: DashboardSession) -> String {
        "\(Self.name)=\(session.id); Path=/ui; HttpOnly; SameSite=Strict; Max-Age=\(Int(lifetime))\(secure ? "; Secure" : "")"
    }

    func clear() -> String {
        "\(Self.name)=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0\(secure ? "; Secure" : "")"
    }

    /// The session id a request's `Cookie` header carries.
    static func sessionID(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix("\(name)=") { return String(pair.dropFirst(name.count + 1)) }
            }
        }
        return nil
    }
}

extension DashboardSessions {
    /// The session of the request's cookie, if it is live.
    func current(_ request: Request) -> DashboardSession? {
        DashboardCookies.sessionID(request).flatMap { find($0) }
    }
}
