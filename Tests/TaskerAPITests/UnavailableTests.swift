import Foundation
import Logging
import ServiceLifecycle
import Testing
import TaskerAMQP
import TaskerAPI
import TaskerCore
import TaskerPostgres
import TaskerServices
import TaskerTestSupport

extension APITests {
    /// With PostgreSQL and RabbitMQ unreachable (nothing listens on their ports), the API still
    /// serves: live, not ready, and 503 `unavailable` where a request needs what is missing.
    @Suite struct Unavailable {
        @Test func answers503WhileTheDatabaseAndTheBrokerAreUnreachable() async throws {
            let logger = testLogger
            var database = try DatabaseConfiguration.fromEnvironment()
            database.port = 1
            let pool = Database(configuration: database, logger: logger, callTimeout: .seconds(1), probeInterval: .seconds(1))
            var amqp = try testAMQPConfiguration(name: "api-unavailable")
            amqp.port = 1
            var pipeline = PipelineConfiguration(amqp: amqp, topology: WireTopology(prefix: "apidown-\(UUID().uuidString.prefix(8))"))
            pipeline.startupTimeout = .seconds(1)
            let (key, entry) = APIKeyring.generate(name: "down", scopes: Set(APIScope.all))
            let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let server = try APIServer(
                configuration: APIServerConfiguration(
                    port: 0, authenticator: Authenticator(keyring: APIKeyring([entry]), jwt: nil, open: false), pipeline: pipeline),
                database: pool, actions: nil, logger: logger, onListening: { portContinuation.yield($0) })
            let group = ServiceGroup(services: [pool, server], logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { running in
                running.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                let client = HTTPTestClient(port: await iterator.next() ?? 0)
                #expect(try await client.get("/health/live", .none).status == 200)
                let ready = try await client.get("/health/ready", .none)
                #expect(ready.status == 503)
                #expect(ready.json == ["status": "not_ready", "database": false, "broker": false])
                #expect(try await client.get("/health", .none).status == 503)

                let list = try await client.get("/v1/tasks", .apiKey(key))
                #expect(list.status == 503)
                #expect(list.errorCode == "unavailable")
                #expect(list.header("Retry-After") == "5")
                let submit = try await client.post("/v1/tasks", .apiKey(key), json: ["namespace": "a", "name": "b"])
                #expect(submit.status == 503)
                #expect(try await client.get("/v1/dlq", .apiKey(key)).status == 503)
                #expect(try await client.get("/v1/templates", .apiKey(key)).status == 503)
                // Errors that need neither still come first.
                #expect(try await client.post("/v1/tasks", .apiKey(key + "x"), json: [:]).status == 401)
                await group.triggerGracefulShutdown()
                try await running.waitForAll()
            }
        }
    }
}
