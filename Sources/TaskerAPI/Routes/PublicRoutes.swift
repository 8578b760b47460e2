internal import Foundation
internal import Hummingbird
internal import TaskerCore
internal import TaskerPostgres

/// What needs no credentials: health (`/health`, `/health/live`, `/health/ready`) and the
/// OpenAPI document (`/openapi.yaml`).
struct PublicRoutes {
    let dependencies: APIDependencies
    let openAPIDocument: ByteBuffer

    func register(on router: Router<APIRequestContext>) {
        router.get("health/live") { _, _ in JSONResponse.make(["status": "ok"]) }
        router.get("health/ready") { _, _ in readiness() }
        router.get("health") { _, _ in readiness() }
        router.get("openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: ResponseBody(byteBuffer: openAPIDocument))
        }
    }

    /// 200 when the database answers and both broker connections are up, else 503; the body
    /// says which is which.
    func readiness() -> Response {
        let database = dependencies.database.isReady
        let broker = dependencies.broker.isConnected
        let ready = database && broker
        return JSONResponse.make(
            ["status": .string(ready ? "ready" : "not_ready"), "database": .bool(database), "broker": .bool(broker)],
            status: ready ? .ok : .serviceUnavailable)
    }
}
