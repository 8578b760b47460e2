// swift-tools-version:6.1
import PackageDescription

/// Compiler settings shared by every target (see docs/architecture.md).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "tasker",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tasker", targets: ["tasker"]),
        // `tasker worker` on a diet: the reference handlers, linked with what a worker needs only.
        .executable(name: "tasker-worker", targets: ["tasker-worker"]),
        .library(name: "TaskerCore", targets: ["TaskerCore"]),
        .library(name: "TaskerPostgres", targets: ["TaskerPostgres"]),
        .library(name: "TaskerAMQP", targets: ["TaskerAMQP"]),
        // The worker SDK (docs/worker.md): handlers, the worker service and its entry point.
        .library(name: "TaskerWorker", targets: ["TaskerWorker"]),
        .library(name: "TaskerRuntime", targets: ["TaskerRuntime"]),
        .library(name: "TaskerWorkerApp", targets: ["TaskerWorkerApp"]),
        .library(name: "TaskerWorkerPostgres", targets: ["TaskerWorkerPostgres"]),
    ],
    // `swift build --traits OTLPExporter`: build the OTLP/HTTP trace exporter (swift-otel) into
    // `tasker` (docs/operations.md, "Traces"). Off by default: it adds minutes to a clean build.
    traits: [
        .trait(name: "OTLPExporter", description: "Export traces over OTLP/HTTP (swift-otel), configured by the OTEL_* variables"),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        // Without swift-configuration support (a default trait we do not use): a shorter build.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // MARK: Timers that share one sleeping task (database call deadlines, step timeouts). No dependencies.
        .target(name: "TaskerTimers", swiftSettings: swiftSettings),
        // MARK: Pure domain: templates, DAG, state machines, readiness, backoff, finalization. No I/O.
        .target(
            name: "TaskerCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: PostgreSQL adapter: migrations and the task store.
        .target(
            name: "TaskerPostgres",
            dependencies: [
                "TaskerTimers",
                "TaskerCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: AMQP adapter: librabbitmq shim and the Swift client on top.
        .systemLibrary(
            name: "CRabbitMQ",
            path: "Sources/CRabbitMQ",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(
            name: "TaskerAMQP",
            dependencies: [
                "CRabbitMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: The wire: topology, message properties, dead-lettering, the confirmed publisher.
        .target(
            name: "TaskerWire",
            dependencies: [
                "TaskerCore", "TaskerAMQP", .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: Worker runtime: the step-handler API and the worker service. No database.
        .target(
            name: "TaskerWorker",
            dependencies: [
                "TaskerTimers",
                "TaskerCore",
                "TaskerAMQP",
                "TaskerWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: What every Tasker process shares: logging and broker options, the bounded-drain service runner.
        .target(
            name: "TaskerRuntime",
            dependencies: [
                "TaskerCore",
                "TaskerAMQP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: The worker SDK's entry point: options, template checks, WorkerApp. No database.
        .target(
            name: "TaskerWorkerApp",
            dependencies: [
                "TaskerCore",
                "TaskerWorker",
                "TaskerRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: Optional: the PostgreSQL template catalog for workers (register/check registered templates).
        .target(
            name: "TaskerWorkerPostgres",
            dependencies: [
                "TaskerCore",
                "TaskerPostgres",
                "TaskerWorkerApp",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: Orchestration services: coordinator, finalizer, reenqueuer, outbox relay.
        .target(
            name: "TaskerServices",
            dependencies: [
                "TaskerCore",
                "TaskerPostgres",
                "TaskerAMQP",
                "TaskerWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: Observability: /metrics (Prometheus), /health/live and /health/ready for every service.
        .target(
            name: "TaskerObservability",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: The HTTP API (`tasker api`): routes, auth, errors, the OpenAPI document.
        .target(
            name: "TaskerAPI",
            dependencies: [
                "TaskerCore",
                "TaskerPostgres",
                "TaskerAMQP",
                "TaskerWire",
                "TaskerServices",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        // MARK: Reference step handlers ("square") with failure injection, for tests and demos.
        .target(
            name: "TaskerExamples",
            dependencies: ["TaskerCore", "TaskerWorker"],
            swiftSettings: swiftSettings
        ),
        // MARK: The command-line executable.
        .executableTarget(
            name: "tasker",
            dependencies: [
                "TaskerCore",
                "TaskerPostgres",
                "TaskerAMQP",
                "TaskerWire",
                "TaskerWorker",
                "TaskerServices",
                "TaskerExamples",
                "TaskerRuntime",
                "TaskerWorkerApp",
                "TaskerWorkerPostgres",
                "TaskerAPI",
                "TaskerObservability",
                .product(name: "OTel", package: "swift-otel", condition: .when(traits: ["OTLPExporter"])),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // MARK: The lean worker executable (docs/worker.md): the reference handlers, no database, HTTP
        // or NIO; the Swift runtime and Foundation linked statically in release builds, so only the
        // code it uses is mapped (docs/performance.md, "Idle worker memory").
        .executableTarget(
            name: "tasker-worker",
            dependencies: ["TaskerExamples", "TaskerWorkerApp"],
            // `-static-stdlib` both to compile this target (so it autolinks the static libraries
            // Foundation needs) and to link; the other targets compile as usual.
            swiftSettings: swiftSettings + [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))],
            linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]
        ),
        // MARK: A standalone reproduction of postgres-nio's pool after a server restart (docs/operations.md).
        .executableTarget(
            name: "postgres-pool-restart-repro",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "repro/PostgresPoolRestart",
            swiftSettings: swiftSettings
        ),
        // MARK: Fuzzing (fuzz/README.md): input generators and properties, and the million-input runner.
        .target(
            name: "TaskerFuzzing",
            dependencies: ["TaskerCore"],
            path: "fuzz/TaskerFuzzing",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tasker-fuzz",
            dependencies: ["TaskerCore", "TaskerFuzzing"],
            path: "fuzz/tasker-fuzz",
            swiftSettings: swiftSettings
        ),
        // MARK: Tests. Pure logic runs without services; the others need PostgreSQL / RabbitMQ.
        // What every test target shares (logger, timeouts and waits, ops scripts, the test broker);
        // a regular target that only test targets depend on.
        .target(
            name: "TaskerTestSupport",
            dependencies: [
                "TaskerCore",
                "TaskerAMQP",
                "TaskerWire",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TaskerTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TaskerCoreTests",
            dependencies: ["TaskerCore", "TaskerFuzzing", "TaskerTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TaskerPostgresTests",
            dependencies: [
                "TaskerCore",
                "TaskerPostgres",
                "TaskerTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TaskerWorkerTests",
            dependencies: [
                "TaskerTimers",
                "TaskerCore",
                "TaskerAMQP",
                "TaskerWire",
                "TaskerWorker",
                "TaskerExamples",
                "TaskerTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TaskerWorkerAppTests",
            dependencies: [
                "TaskerCore",
                "TaskerWorker",
                "TaskerRuntime",
                "TaskerWorkerApp",
                "TaskerWorkerPostgres",
                "TaskerPostgres",
                "TaskerExamples",
                "TaskerTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TaskerPipelineTests",
            dependencies: [
                "TaskerCore",
                "TaskerPostgres",
                "TaskerAMQP",
                "TaskerWire",
                "TaskerWorker",
                "TaskerServices",
                "TaskerExamples",
                "TaskerObservability",
                "TaskerTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TaskerAPITests",
            dependencies: [
                "TaskerCore",
                "TaskerPostgres",
                "TaskerAMQP",
                "TaskerWire",
                "TaskerServices",
                "TaskerWorker",
                "TaskerExamples",
                "TaskerAPI",
                "TaskerTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TaskerAMQPTests",
            dependencies: [
                "TaskerAMQP",
                "TaskerTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
