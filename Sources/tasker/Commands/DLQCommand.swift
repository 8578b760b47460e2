import ArgumentParser
import Foundation
import TaskerRuntime
import Logging
import TaskerAMQP
import TaskerCore
import TaskerWire

/// `tasker dlq list | show | replay | purge`: the dead-letter queue, with the reasons.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect, replay or purge dead-lettered messages (the <prefix>.dead queue).",
        subcommands: [List.self, Show.self, Replay.self, Purge.self]
    )

    /// Options every dlq subcommand shares.
    struct Options: ParsableArguments {
        @OptionGroup var logging: LoggingOptions
        @OptionGroup var service: ServiceOptions

        /// Runs `body` with the dead-letter queue of the configured topology (no start-up wait:
        /// a command line fails at once when the broker is down).
        func withQueue<T: Sendable>(_ body: @Sendable (DeadLetterQueue) async throws -> T) async throws -> T {
            let logger = logging.makeLogger(label: "tasker.dlq", default: .warning)
            var amqp = try service.amqpConfiguration(name: "tasker-dlq")
            amqp.startupTimeout = nil
            let topology = service.topology
            return try await AMQPConnection.withConnection(configuration: amqp, logger: logger) { connection in
                try await body(DeadLetterQueue(connection: connection, topology: topology))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead-lettered messages with their reasons (they stay queued).")
        @OptionGroup var options: Options
        @Option(help: "At most this many messages.") var limit = 100
        @Flag(help: "Print JSON lines instead of a table.") var json = false

        func run() async throws {
            let letters = try await options.withQueue { try await $0.list(limit: limit) }
            if json {
                for letter in letters { print(DLQCommand.json(letter)) }
                return
            }
            if letters.isEmpty { print("the dead-letter queue is empty"); return }
            print("MESSAGE ID                            TYPE                 SOURCE QUEUE                         REASON")
            for letter in letters {
                let id = letter.messageID.isEmpty ? "-" : letter.messageID
                print("\(id.padding(toLength: 38, withPad: " ", startingAt: 0)) \((letter.type ?? "-").padding(toLength: 20, withPad: " ", startingAt: 0)) \(letter.sourceQueue.padding(toLength: 36, withPad: " ", startingAt: 0)) \(letter.reason.prefix(120))")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one dead-lettered message: reason, headers and body.")
        @OptionGroup var options: Options
        @Argument(help: "Its message id (see `tasker dlq list`).") var messageID: String

        func run() async throws {
            let letters = try await options.withQueue { try await $0.list(limit: 10_000) }
            guard let letter = letters.first(where: { $0.messageID == messageID }) else {
                throw ValidationError("no dead-lettered message has id \(messageID)")
            }
            print(DLQCommand.json(letter, body: true))
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a dead-lettered message again to the queue it came from, then remove it from the dead-letter queue.")
        @OptionGroup var options: Options
        @Argument(help: "Its message id (see `tasker dlq list`).") var messageID: String

        func run() async throws {
            let id = messageID
            guard let letter = try await options.withQueue({ try await $0.replay(messageID: id) }) else {
                throw ValidationError("no dead-lettered message has id \(messageID)")
            }
            print("replayed \(letter.messageID) to \(letter.sourceQueue)")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete every dead-lettered message.")
        @OptionGroup var options: Options
        @Flag(help: "Required: purging cannot be undone.") var yes = false

        func run() async throws {
            guard yes else { throw ValidationError("purging deletes every dead-lettered message for good; pass --yes") }
            let count = try await options.withQueue { try await $0.purge() }
            print("purged \(count) message(s)")
        }
    }

    /// One message as a JSON object (the body inline when it is JSON).
    static func json(_ letter: DeadLetter, body: Bool = false) -> String {
        letter.json(body: body).canonicalString
    }
}
