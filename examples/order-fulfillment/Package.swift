// swift-tools-version:6.1
import PackageDescription

// An application with its own step handlers, templates and worker, built on Tasker's worker
// SDK. A real application names Tasker by URL; this example uses the checkout it lives in.
let package = Package(
    name: "order-fulfillment",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "tasker", path: "../.."),
    ],
    targets: [
        // The handlers and the templates (shipped as resources, so the worker carries them).
        .target(
            name: "OrderFulfillment",
            dependencies: [.product(name: "TaskerWorkerApp", package: "tasker")],
            resources: [.copy("templates")]
        ),
        // The worker executable: one call to WorkerApp.
        .executableTarget(
            name: "order-worker",
            dependencies: ["OrderFulfillment", .product(name: "TaskerWorkerApp", package: "tasker")]
        ),
        .testTarget(
            name: "OrderFulfillmentTests",
            dependencies: ["OrderFulfillment", .product(name: "TaskerWorkerApp", package: "tasker")]
        ),
    ]
)
