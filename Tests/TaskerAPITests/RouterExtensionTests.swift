import Foundation
import Hummingbird
import Testing
import TaskerAPI
import TaskerCore
import TaskerPostgres

/// A stand-in for a dashboard's session middleware: a `session=<name>` cookie is a caller who
/// may read tasks.
struct CookieSessionMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: APIRequestContext, next: (Request, APIRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        let cookies = request.headers[.cookie] ?? ""
        if let session = cookies.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }).first(where: { $0.hasPrefix("session=") }) {
            context.principal = Principal(name: String(session.dropFirst("session=".count)), scopes: [.tasksRead], method: .open)
        }
        return try await next(request, context)
    }
}

extension APITests {
    @Suite struct RouterExtension {
        @Test func routesOutsideV1CanHaveTheirOwnAuthenticationAndShareTheErrorShape() async throws {
            let options = APIHarness.Options(pipeline: false) { router, dependencies in
                router.group("ui").add(middleware: CookieSessionMiddleware()).get("whoami") { _, context in
                    let principal = try context.require(.tasksRead)
                    let page = try await dependencies.tasks.list(TaskListFilter(), limit: 1)
                    return JSONResponse.make(["name": .string(principal.name), "tasks_seen": .int(Int64(page.items.count))])
                }
            }
            try await APIHarness.run(options) { api async throws in
                let client = HTTPTestClient(port: Int(api.client.baseURL.port ?? 0), record: false)
                let anonymous = try await client.get("/ui/whoami", .none)
                #expect(anonymous.status == 401)
                #expect(anonymous.errorCode == "unauthorized")
                let signedIn = try await client.send("GET", "/ui/whoami", .none, headers: ["Cookie": "theme=dark; session=alice"])
                #expect(signedIn.status == 200)
                #expect(signedIn.json?["name"] == "alice")
                // The cookie is not a credential for /v1.
                #expect(try await api.client.get("/v1/tasks", .none).status == 401)
            }
        }
    }
}
