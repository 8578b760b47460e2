import ArgumentParser
import Foundation
import TaskerRuntime
import Logging
import PostgresNIO
import ServiceLifecycle
import TaskerAMQP
import TaskerCore
import TaskerExamples
import TaskerPostgres
import TaskerServices
import TaskerWire
import TaskerWorker
import TaskerWorkerApp

/// `tasker bench pipeline`: end-to-end figures of the whole pipeline, in this process.
///
/// Starts a coordinator, a finalizer, a reenqueuer and workers in-process on a private
/// exchange prefix and template namespace (so it never disturbs a running cluster), runs the
/// scenarios, prints a table and optionally writes JSON. Use a release build.
struct PipelineBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Measure throughput, per-stage and creation latency, DAG width cost and platform baselines."
    )
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var service: ServiceOptions

    @Option(help: "Scenarios, comma-separated: throughput, latency, width, scaling, processes, baseline.")
    var scenarios: String = "throughput,latency,width,scaling,processes,baseline"
    @Option(help: "Diamond tasks submitted at once in the throughput scenario.") var tasks = 2_000
    @Option(help: "Linear tasks run one after another in the latency scenario.") var sequential = 200
    @Option(help: "Fan-out widths for the width scenario, comma-separated.") var widths = "10,100,1000"
    @Option(help: "Workers (in-process).") var workers = 2
    @Option(help: "Finalizers (in-process).") var finalizers = 1
    @Option(help: "Parallel steps sleeping 10 ms (one task), per run of the scaling scenario.") var scalingSteps = 400
    @Option(help: "Steps each worker runs at once in the scaling scenario.") var scalingConcurrency = 1
    @Option(help: "Each worker's prefetch in the scaling scenario (default: the worker's default).") var scalingPrefetch: Int?
    @Option(help: "Diamond tasks run through the separately started processes.") var processTasks = 1000
    @Option(help: "Diamond tasks run unmeasured before the throughput and processes scenarios (warm-up: connections, prepared statements, cached plans).")
    var warmup = 100
    @Option(help: "Write the figures as JSON to this path.") var json: String?

    /// The benchmark's workers, in this process or separate, take `TASKER_RESULT_BATCH_SIZE` as every worker does.
    var resultBatchSize: Int? { WorkerOptions.resultBatchSize(in: ProcessInfo.processInfo.environment) }

    func validate() throws {
        if let size = resultBatchSize, size < 1 { throw ValidationError("TASKER_RESULT_BATCH_SIZE must be positive") }
    }

    func run() async throws {
        var logger = logging.makeLogger(label: "tasker.bench")
        if logging.logLevel == nil { logger.logLevel = .warning }
        let selected = Set(scenarios.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let run = BenchRunNames.fresh()
        let namespace = run.namespace
        let napNamespace = run.napNamespace
        var pipeline = try service.pipeline()
        pipeline.topology = run.topology
        pipeline.concurrency = service.resolvedConcurrency(default: 2)
        let pool = try database.makeDatabase(logger: logger)
        let client = pool.currentClient
        let widthList = widths.split(separator: ",").compactMap { Int($0) }

        var table = BenchTable()
        var figures: [String: JSONValue] = [:]
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            defer { group.cancelAll() }
            if let directory = Migration.locateDirectory() {
                try await PostgresMigrator(client: client, logger: logger).migrate(try Migration.load(from: directory))
            }
            let removed = try await BenchLeftovers(client: client, amqp: pipeline.amqp, logger: logger).removeRuns(olderThan: .seconds(15 * 60))
            if removed > 0 { print("removed what \(removed) interrupted benchmark run(s) left behind (tasks, templates, exchanges, queues)") }
            let store = PostgresStore(database: pool, logger: logger)
            for yaml in BenchTemplates.all(namespace: namespace, widths: widthList) + [BenchTemplates.nap(namespace: napNamespace, steps: scalingSteps)] {
                try await store.registerTemplate(try TemplateLoader().load(yaml: yaml, file: "bench"))
            }
            try await AMQPConnection.withConnection(configuration: pipeline.amqp, logger: logger) { connection in
                try await TaskerTopology.declare(on: connection, topology: pipeline.topology, namespaces: [namespace, napNamespace])
            }
            var services: [any Service] = [
                CoordinatorService(database: pool, configuration: pipeline, logger: logger),
                ReenqueuerService(database: pool, configuration: pipeline, logger: logger),
            ]
            for _ in 0..<max(1, finalizers) {
                services.append(FinalizerService(database: pool, configuration: pipeline, logger: logger))
            }
            for _ in 0..<workers {
                var worker = WorkerService.Configuration(amqp: pipeline.amqp)
                worker.topology = pipeline.topology
                worker.namespaces = [namespace]
                worker.concurrency = 32
                if let size = resultBatchSize { worker.resultBatchSize = size }
                services.append(WorkerService(configuration: worker, registry: ExampleWorker.registry(), logger: logger))
            }
            let serviceGroup = ServiceGroup(services: services, logger: logger)
            group.addTask { try await serviceGroup.run() }

            let runner = BenchRunner(client: client, store: store, amqp: pipeline.amqp, topology: pipeline.topology, namespace: namespace, logger: logger)
            if selected.contains("throughput") {
                if warmup > 0 { _ = try await runner.throughput(tasks: warmup) }
                let cpuBefore = MachineCPU.now()
                let result = try await runner.throughput(tasks: tasks)
                let cpuAfter = MachineCPU.now()
                table.add("throughput: tasks/s (\(tasks) diamonds, \(workers) workers, \(max(1, finalizers)) finalizer(s))", format(result.tasksPerSecond))
                table.add("throughput: steps/s", format(result.stepsPerSecond),
                          checking: [BenchTarget("throughput, in-process, steps/s", value: result.stepsPerSecond, .atLeast(3_000))])
                var throughput: [String: JSONValue] = [
                    "tasks": .int(Int64(tasks)), "seconds": .double(result.seconds),
                    "tasks_per_second": .double(result.tasksPerSecond), "steps_per_second": .double(result.stepsPerSecond),
                ]
                if let cpuPerStep = MachineCPU.millisecondsPerStep(from: cpuBefore, to: cpuAfter, steps: tasks * 4) {
                    let stolen = (cpuAfter?.stolenSeconds ?? 0) - (cpuBefore?.stolenSeconds ?? 0)
                    table.add("throughput: machine CPU ms per step (all processes; stolen s)", "\(format(cpuPerStep, 3)) (\(format(stolen, 2)))")
                    throughput["machine_cpu_ms_per_step"] = .double(cpuPerStep)
                }
                figures["throughput"] = .object(throughput)
            }
            if selected.contains("latency") {
                let result = try await runner.latency(tasks: sequential)
                table.add("stage overhead p50/p95/p99 ms", "\(format(result.stage.p50, 2))/\(format(result.stage.p95, 2))/\(format(result.stage.p99, 2))",
                          checking: [BenchTarget("stage overhead p50", label: "p50", value: result.stage.p50, .atMost(3), unit: "ms"),
                                     BenchTarget("stage overhead p99", label: "p99", value: result.stage.p99, .atMost(10), unit: "ms")])
                table.add("  result published → recorded p50/p99 ms", format(result.stageSplit.before))
                table.add("  recorded → next handler starts p50/p99 ms", format(result.stageSplit.after))
                table.add("creation latency p50/p99 ms", format(result.creation),
                          checking: [BenchTarget("creation latency p50", label: "p50", value: result.creation.p50, .atMost(3), unit: "ms")])
                table.add("  request published → stored p50/p99 ms", format(result.creationSplit.before))
                table.add("  stored → first handler starts p50/p99 ms", format(result.creationSplit.after))
                table.add("task end-to-end p50/p95/p99 ms", "\(format(result.endToEnd.p50))/\(format(result.endToEnd.p95))/\(format(result.endToEnd.p99))")
                figures["stage_overhead"] = result.stage.figure
                figures["stage_result_to_record"] = result.stageSplit.before.figure
                figures["stage_record_to_next_handler"] = result.stageSplit.after.figure
                figures["creation_latency"] = result.creation.figure
                figures["creation_request_to_store"] = result.creationSplit.before.figure
                figures["creation_store_to_first_handler"] = result.creationSplit.after.figure
                figures["task_end_to_end"] = result.endToEnd.figure
            }
            if selected.contains("width") {
                var perWidth: [String: JSONValue] = [:]
                // One unmeasured task first: the first fan-out of a run otherwise pays for the
                // pipeline's warm-up (each pooled connection plans its statements once).
                if let smallest = widthList.min() { _ = try await runner.width(smallest) }
                var measured: [(width: Int, msPerStep: Double)] = []
                for width in widthList {
                    let seconds = try await runner.width(width)
                    let perStep = seconds * 1_000 / Double(width + 2)
                    measured.append((width, perStep))
                    perWidth["\(width)"] = ["seconds": .double(seconds), "ms_per_step": .double(perStep)]
                }
                // Width 10,000 is judged against width 10, whichever order they ran in.
                let perStepAt10 = measured.first { $0.width == 10 }?.msPerStep
                for (width, perStep) in measured {
                    var checks: [BenchTarget] = []
                    if width == 1_000 { checks.append(BenchTarget("ms per step at width 1,000", value: perStep, .atMost(0.5))) }
                    if width == 10_000, let perStepAt10 {
                        checks.append(BenchTarget("ms per step at width 10,000 (at most 1.5 x width 10)", value: perStep, .atMost(1.5 * perStepAt10)))
                    }
                    table.add("width \(width): ms per step", format(perStep, 3), checking: checks)
                }
                figures["width"] = .object(perWidth)
            }
            if selected.contains("scaling") {
                let napRunner = BenchRunner(
                    client: client, store: store, amqp: pipeline.amqp, topology: pipeline.topology, namespace: napNamespace, logger: logger)
                var rates: [Int: Double] = [:]
                // The first run (1 worker) is preceded by an unmeasured one, so it does not pay for
                // the pipeline's warm-up (connections, prepared statements) that the others skip.
                for (count, measured) in [(1, false), (1, true), (2, true), (4, true)] {
                    var configuration = WorkerService.Configuration(amqp: pipeline.amqp)
                    configuration.topology = pipeline.topology
                    configuration.namespaces = [napNamespace]
                    configuration.concurrency = scalingConcurrency
                    configuration.prefetch = scalingPrefetch
                    if let size = resultBatchSize { configuration.resultBatchSize = size }
                    let workerGroup = ServiceGroup(
                        services: (0..<count).map { _ in WorkerService(configuration: configuration, registry: ExampleWorker.registry(), logger: logger) },
                        logger: logger)
                    async let running: Void = workerGroup.run()
                    let result = try await napRunner.throughput(tasks: 1, template: "nap", stepsPerTask: scalingSteps)
                    await workerGroup.triggerGracefulShutdown()
                    try await running
                    guard measured else { continue }
                    rates[count] = result.stepsPerSecond
                    table.add("scaling: steps/s, \(count) worker(s) x \(scalingConcurrency) slots, 10 ms steps", format(result.stepsPerSecond))
                }
                let speedUp = (rates[4] ?? 0) / max(rates[1] ?? 1, 0.001)
                table.add("scaling: speed-up 4 workers vs 1", format(speedUp, 2),
                          checking: [BenchTarget("speed-up 4 workers vs 1", value: speedUp, .atLeast(3.5))])
                figures["scaling"] = [
                    "steps_per_second": .object(Dictionary(uniqueKeysWithValues: rates.map { ("\($0.key)", JSONValue.double($0.value)) })),
                    "speed_up_4_vs_1": .double(speedUp), "slots_per_worker": .int(Int64(scalingConcurrency)),
                ]
            }
            if selected.contains("processes") {
                // The same pipeline as separate processes, on a topology of its own.
                let processTopology = run.processTopology  // deleted at the end, with the main one
                try await AMQPConnection.withConnection(configuration: pipeline.amqp, logger: logger) { connection in
                    try await TaskerTopology.declare(on: connection, topology: processTopology, namespaces: [namespace])
                }
                // Worker 2 is the lean `tasker-worker` when it is built (docs/performance.md, "Idle
                // worker memory"): both kinds of worker measured in the same run.
                let leanWorker = ProcessCluster.sibling("tasker-worker").map {
                    ProcessCluster.Command(name: "worker 2 (tasker-worker)", executable: $0, arguments: [])
                }
                let cluster = try ProcessCluster(
                    commands: [
                        .tasker("coordinator", ["coordinator"]), .tasker("finalizer", ["finalizer"]), .tasker("reenqueuer", ["reenqueuer"]),
                        .tasker("worker 1", ["worker"]), leanWorker ?? .tasker("worker 2", ["worker"]),
                    ],
                    prefix: processTopology.prefix, namespace: namespace)
                try await Task.sleep(for: .seconds(3))
                let idle = cluster.memory(field: "VmRSS")
                let idleAnonymous = cluster.memory(field: "RssAnon")
                let idleFile = cluster.memory(field: "RssFile")
                let processRunner = BenchRunner(
                    client: client, store: store, amqp: pipeline.amqp, topology: processTopology, namespace: namespace, logger: logger)
                if warmup > 0 { _ = try await processRunner.throughput(tasks: warmup) }
                let result = try await processRunner.throughput(tasks: processTasks)
                let peak = cluster.memory(field: "VmHWM")
                let failed = await cluster.stop()
                table.add("processes: steps/s (\(processTasks) diamonds, 5 processes)", format(result.stepsPerSecond),
                          checking: [BenchTarget("throughput, separate processes, steps/s", value: result.stepsPerSecond, .atLeast(2_000))])
                var memory: [String: JSONValue] = [:]
                for (name, mebibytes) in idle {
                    let peakMiB = peak.first { $0.name == name }?.mebibytes ?? 0
                    let anonymous = idleAnonymous.first { $0.name == name }?.mebibytes ?? 0
                    let file = idleFile.first { $0.name == name }?.mebibytes ?? 0
                    // Worker 2 is the lean worker when it is built (the target's subject); 30 MB are 28.6 MiB.
                    let checks = name.hasPrefix("worker 2")
                        ? [BenchTarget("\(name) idle RSS, MiB", label: "idle", value: mebibytes, .atMost(30e6 / 1_048_576), unit: "MiB")] : []
                    table.add("processes: \(name) RSS idle (anon + file) / peak MiB",
                              "\(format(mebibytes)) (\(format(anonymous)) + \(format(file)))/\(format(peakMiB))", checking: checks)
                    memory[name] = ["idle_rss_mib": .double(mebibytes), "idle_private_anonymous_mib": .double(anonymous),
                                    "idle_file_mib": .double(file), "peak_rss_mib": .double(peakMiB)]
                }
                if !failed.isEmpty { table.add("processes: did not stop cleanly", failed.joined(separator: ", ")) }
                figures["processes"] = [
                    "steps_per_second": .double(result.stepsPerSecond), "memory": .object(memory),
                    "unclean_stops": .array(failed.map(JSONValue.string)),
                ]
            }
            if selected.contains("baseline") {
                let amqp = try await AMQPBenchmark.run(
                    url: try service.amqpURLString(), messages: 20_000, size: 200, queueType: .quorum, inFlight: 1_000, prefetch: 200, logger: logger)
                table.add("baseline: AMQP publish+confirm msg/s", format(amqp.publishRate, 0))
                table.add("baseline: AMQP consume+ack msg/s", format(amqp.consumeRate, 0))
                let hop = LatencySummary(try await AMQPHopBenchmark.run(url: try service.amqpURLString(), messages: 300, logger: logger))
                table.add("baseline: AMQP hop through this client, idle (quorum) p50 / p99 ms", "\(format(hop.p50, 3)) / \(format(hop.p99, 3))")
                let commits = try await runner.commitRate(count: 2_000)
                table.add("baseline: PostgreSQL commits/s", format(commits, 0))
                let roundTrip = try await runner.roundTrip(count: 5_000)
                table.add("baseline: PostgreSQL round trip (SELECT 1) p50 / p99 µs", "\(format(roundTrip.p50 * 1_000, 0)) / \(format(roundTrip.p99 * 1_000, 0))")
                figures["baseline"] = ["amqp_publish_per_second": .double(amqp.publishRate), "amqp_consume_per_second": .double(amqp.consumeRate),
                                       "amqp_hop_ms": hop.figure, "postgres_commits_per_second": .double(commits),
                                       "postgres_round_trip_ms": roundTrip.figure]
                if case .object(let throughput)? = figures["throughput"], let steps = throughput["steps_per_second"]?.doubleValue {
                    table.add("ratio: steps/s per PG commit/s", format(steps / commits, 3))
                }
            }
            if let rss = peakResidentMiB() {
                table.add("peak RSS of this process (all services) MiB", format(rss))
                figures["peak_rss_mib"] = .double(rss)
            }
            await serviceGroup.triggerGracefulShutdown()
            try await BenchRunNames.removeData(of: [run], client: client, logger: logger)
        }
        try? await AMQPConnection.withConnection(configuration: pipeline.amqp, logger: logger) { connection in
            await run.removeTopology(on: connection)
        }
        print(table.text)
        if !table.targets.isEmpty { figures["targets"] = .array(table.targets.map(\.figure)) }
        if let json {
            try JSONValue.object(figures).canonicalData().write(to: URL(fileURLWithPath: json))
            print("figures written to \(json)")
        }
    }
}

extension ServiceOptions {
    func amqpURLString() throws -> String {
        amqpURL ?? ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://tasker:tasker@127.0.0.1:5673/%2f"
    }
}

/// Templates the benchmark registers in its private namespaces; every step runs the `noop`
/// handler, except `nap`'s, which sleeps 10 ms.
enum BenchTemplates {
    /// One task of `steps` independent steps that each sleep 10 ms: what the workers do
    /// dominates, so adding workers shows how they scale out (single-step tasks would measure
    /// the coordinator's and the finalizer's share of two shared cores instead).
    static func nap(namespace: String, steps: Int) -> String {
        var yaml = "name: nap\nnamespace: \(namespace)\nversion: 1.0.0\nidentity_strategy: always_unique\nsteps:\n"
        for index in 0..<max(1, steps) { yaml += "  - { name: nap_\(index), handler: sleep, handler_config: { ms: 10 } }\n" }
        return yaml
    }

    static func all(namespace: String, widths: [Int]) -> [String] {
        var templates = [
            """
            name: diamond
            namespace: \(namespace)
            version: 1.0.0
            identity_strategy: always_unique
            steps:
              - { name: start, handler: noop }
              - { name: branch_b, handler: noop, depends_on: [start] }
              - { name: branch_c, handler: noop, depends_on: [start] }
              - { name: end, handler: noop, depends_on: [branch_b, branch_c] }
            """,
            """
            name: linear
            namespace: \(namespace)
            version: 1.0.0
            identity_strategy: always_unique
            steps:
              - { name: step_1, handler: noop }
              - { name: step_2, handler: noop, depends_on: [step_1] }
              - { name: step_3, handler: noop, depends_on: [step_2] }
              - { name: step_4, handler: noop, depends_on: [step_3] }
            """,
        ]
        for width in widths {
            var yaml = "name: fan_\(width)\nnamespace: \(namespace)\nversion: 1.0.0\nidentity_strategy: always_unique\nsteps:\n  - { name: root, handler: noop }\n"
            for index in 0..<width { yaml += "  - { name: leaf_\(index), handler: noop, depends_on: [root] }\n" }
            yaml += "  - { name: join, handler: noop, depends_on: [" + (0..<width).map { "leaf_\($0)" }.joined(separator: ", ") + "] }\n"
            templates.append(yaml)
        }
        return templates
    }
}
