import ArgumentParser
import Foundation
import TaskerRuntime
import Logging
import TaskerAMQP

/// `tasker bench ...`: benchmarks. Build with `-c release` before trusting the figures.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (use a release build: swift build -c release).",
        subcommands: [AMQP.self, PipelineBenchCommand.self]
    )

    /// `tasker bench amqp`: publish-with-confirms and consume-with-ack rates against the broker.
    struct AMQP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "amqp",
            abstract: "Measure publish-with-confirms and consume-with-ack rates on a temporary queue."
        )
        @OptionGroup var logging: LoggingOptions
        @OptionGroup var service: ServiceOptions
        @Option(help: "Messages per run.") var messages = 50_000
        @Option(help: "Body size in bytes.") var size = 200
        @Option(help: "Publishes in flight.") var inFlight = 1_000
        @Option(help: "Consumer prefetch.") var prefetch: UInt16 = 200
        @Option(help: "Queue types to measure: classic, quorum.") var queueTypes: [String] = ["quorum", "classic"]

        func run() async throws {
            let logger = logging.makeLogger(label: "tasker.bench")
            let url = service.amqpURL ?? ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://tasker:tasker@127.0.0.1:5673/%2f"
            for type in queueTypes {
                let result = try await AMQPBenchmark.run(
                    url: url, messages: messages, size: size, queueType: AMQPQueue.QueueType(type), inFlight: inFlight,
                    prefetch: prefetch, logger: logger)
                print(result.table)
            }
        }
    }
}
