import CoreMetrics
import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Testing
import TaskerCore
import TaskerObservability
import TaskerPostgres
import TaskerTestSupport

/// `/metrics`, `/health/live` and `/health/ready` of the service processes (docs/operations.md).
@Suite(.serialized, .timeLimit(.minutes(3))) struct ObservabilityTests {
    /// One `tasker` service process with its metrics port.
    struct ServiceProcess {
        var role: String
        var port: Int
        var process: Process
    }

    func launch(_ role: String, harness: PipelineHarness) throws -> ServiceProcess {
        let port = try LoopbackHTTP.freePort()
        let process = Process()
        process.executableURL = ProcessTests.binary
        process.arguments = [role, "--log-level", "warning"]
        var environment = ProcessInfo.processInfo.environment
        environment["TASKER_TOPOLOGY_PREFIX"] = harness.topology.prefix
        environment["TASKER_NAMESPACES"] = harness.namespace
        environment["TASKER_METRICS_PORT"] = "\(port)"
        environment["TASKER_METRICS_HOST"] = "127.0.0.1"
        process.environment = environment
        try process.run()
        return ServiceProcess(role: role, port: port, process: process)
    }

    func scrape(_ service: ServiceProcess) async throws -> MetricsScrape {
        let (status, body) = try await LoopbackHTTP.get(port: service.port, "/metrics")
        #expect(status == 200, "\(service.role) /metrics")
        return MetricsScrape(text: body)
    }

    @Test func serviceProcessesServeHealthAndMetricsThatMoveWithAWorkflow() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: ProcessTests.binary.path), "build the tasker binary first (swift build)")
        var options = PipelineHarness.Options()
        options.runWorkers = false
        options.runOrchestration = false
        try await PipelineHarness.run(options: options) { harness in
            let services = try ["coordinator", "finalizer", "reenqueuer", "worker"].map { try launch($0, harness: harness) }
            defer {
                for service in services where service.process.isRunning { service.process.terminate() }
                for service in services { service.process.waitUntilExit() }
            }
            // Every process becomes ready: database (not the worker) and broker connections up, consumers running.
            for service in services {
                let body = try await waitFor("\(service.role) ready", timeout: .seconds(60), every: .milliseconds(100)) {
                    let answer = try? await LoopbackHTTP.get(port: service.port, "/health/ready")
                    return answer?.status == 200 ? answer?.body : nil
                }
                #expect(body.contains(#""broker":true"#), "\(service.role): \(body)")
                if service.role != "worker" { #expect(body.contains(#""database":true"#), "\(service.role): \(body)") }
                let live = try await LoopbackHTTP.get(port: service.port, "/health/live")
                #expect(live.status == 200)
                #expect(try await LoopbackHTTP.get(port: service.port, "/nothing-here").status == 404)
            }

            let reply = try await harness.submit("diamond", context: ["even_number": 2, "run": .string(UUID().uuidString)])
            let detail = try await harness.waitForTask(try #require(reply.taskID))
            #expect(detail.task.state == .complete)
            let steps = Double(detail.steps.count)
            #expect(steps == 4)
            let namespace = harness.namespace

            let byRole = Dictionary(uniqueKeysWithValues: services.map { ($0.role, $0) })
            let coordinator = try await scrape(byRole["coordinator"]!)
            #expect(coordinator.sum("tasker_coordinator_requests_total", ["outcome": "created"]) == 1)
            #expect(coordinator.sum("tasker_steps_dispatched_total", ["namespace": namespace]) == 1, "the diamond's root")
            #expect(coordinator.sum("tasker_coordinator_batch_size_count") == 1)
            #expect(coordinator.sum("tasker_coordinator_batch_duration_seconds_count") == 1)
            #expect(coordinator.sum("tasker_db_call_duration_seconds_count") > 0)
            #expect(coordinator.sum("tasker_amqp_published_total") > 0)

            // The finalizer records the step reports (started ones too, unless a step ran faster
            // than the started-report delay) and dispatches the other three steps.
            let finalizer = try await waitFor("finalizer counters", timeout: .seconds(10), every: .milliseconds(100)) { () -> MetricsScrape? in
                let scrape = try await scrape(byRole["finalizer"]!)
                return scrape.sum("tasker_tasks_finished_total", ["outcome": "completed"]) == 1 ? scrape : nil
            }
            #expect(finalizer.sum("tasker_finalizer_results_total", ["outcome": "completed"]) == steps)
            #expect(finalizer.sum("tasker_steps_dispatched_total", ["namespace": namespace]) == steps - 1)
            #expect(finalizer.sum("tasker_finalizer_result_latency_seconds_count") == steps)
            #expect(finalizer.sum("tasker_finalizer_batch_duration_seconds_count") >= 1)
            #expect(finalizer.sum("tasker_events_published_total", ["event": "task.completed"]) == 1)

            let worker = try await scrape(byRole["worker"]!)
            #expect(worker.sum("tasker_worker_steps_total", ["outcome": "completed", "namespace": namespace]) == steps)
            #expect(worker.sum("tasker_worker_step_duration_seconds_count", ["outcome": "completed"]) == steps)
            #expect(worker.sum("tasker_worker_step_queue_wait_seconds_count", ["namespace": namespace]) == steps)
            #expect(worker.sum("tasker_amqp_consumers") == 2, "the namespace's steps queue and the worker's control queue")
            #expect(worker.samples.filter { $0.name == "tasker_amqp_connected" }.map(\.value) == [1, 1], "consume and publish connections up")

            // The reenqueuer reads the backlog every 5 s: once every consumer runs, it sees the
            // worker's and the finalizer's consumers, an empty outbox and drained queues.
            let stepsQueue = harness.topology.stepsQueue(namespace: namespace)
            let reenqueuer = try await waitFor("reenqueuer gauges", timeout: .seconds(15), every: .milliseconds(200)) { () -> MetricsScrape? in
                let scrape = try await scrape(byRole["reenqueuer"]!)
                let consumed = [stepsQueue, harness.topology.resultsQueue, harness.topology.requestsQueue, harness.topology.reenqueueQueue]
                return consumed.allSatisfy { scrape.sum("tasker_queue_consumers", ["queue": $0]) == 1 } ? scrape : nil
            }
            #expect(reenqueuer.sum("tasker_outbox_backlog") == 0)
            #expect(reenqueuer.has("tasker_outbox_oldest_age_seconds"))
            #expect(reenqueuer.sum("tasker_queue_messages", ["queue": stepsQueue]) == 0)

            // A failed attempt: one retry scheduled by the finalizer, dispatched by the reenqueuer.
            let retried = try await harness.submit(
                "linear", context: ["even_number": 2, "fail_once": ["step_2"], "run": .string(UUID().uuidString)])
            #expect(try await harness.waitForTask(try #require(retried.taskID)).task.state == .complete)
            let afterRetry = try await waitFor("finalizer counted the retry", timeout: .seconds(10), every: .milliseconds(100)) { () -> MetricsScrape? in
                let scrape = try await scrape(byRole["finalizer"]!)
                return scrape.sum("tasker_tasks_finished_total", ["outcome": "completed"]) == 2 ? scrape : nil
            }
            #expect(afterRetry.sum("tasker_retries_scheduled_total") == 1)
            #expect(afterRetry.sum("tasker_finalizer_results_total", ["outcome": "failed"]) == 1)
            #expect(try await scrape(byRole["worker"]!).sum("tasker_worker_steps_total", ["outcome": "failed", "namespace": namespace]) == 1)
            #expect(try await scrape(byRole["reenqueuer"]!).sum("tasker_reenqueuer_dispatched_total") == 1)

            // SIGTERM still drains and exits cleanly with the endpoint server in the group.
            for service in services { service.process.terminate() }
            for service in services {
                service.process.waitUntilExit()
                #expect(service.process.terminationReason == .exit && service.process.terminationStatus == 0, "\(service.role) exit")
            }
        }
    }

    @Test func readinessAnswers503WhileACheckFailsAndMetricsUseTheTaskerNames() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = TaskerMetricsFactory(registry: registry)
        factory.makeCounter(label: "tasker.test.things", dimensions: [("kind", "a")]).increment(by: 3)
        factory.makeTimer(label: "tasker.test.wait", dimensions: []).recordNanoseconds(2_000_000)
        factory.makeRecorder(label: "tasker.test.batch_size", dimensions: [], aggregate: true).record(Int64(7))
        let (ports, reported) = AsyncStream.makeStream(of: Int.self)
        let server = ObservabilityServer(
            configuration: .init(host: "127.0.0.1", port: 0), registry: registry,
            readiness: [ReadinessCheck(name: "database") { true }, ReadinessCheck(name: "broker") { false }],
            logger: Logger(label: "test"), onListening: { reported.yield($0) })
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())

            let ready = try await LoopbackHTTP.get(port: port, "/health/ready")
            #expect(ready.status == 503)
            #expect(ready.body.contains(#""status":"not_ready""#) && ready.body.contains(#""broker":false"#) && ready.body.contains(#""database":true"#))
            #expect(try await LoopbackHTTP.get(port: port, "/ready").status == 503)
            #expect(try await LoopbackHTTP.get(port: port, "/health").status == 200)

            let metrics = MetricsScrape(text: try await LoopbackHTTP.get(port: port, "/metrics").body)
            #expect(metrics.sum("tasker_test_things_total", ["kind": "a"]) == 3)
            #expect(metrics.sum("tasker_test_wait_seconds_count") == 1)
            #expect(metrics.sum("tasker_test_wait_seconds_sum") == 0.002)
            #expect(metrics.sum("tasker_test_batch_size_sum") == 7)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
