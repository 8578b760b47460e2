import ArgumentParser
import Foundation
import Logging
import TaskerRuntime
import TaskerPostgres

/// `tasker migrate`: applies pending SQL migrations.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (safe to run concurrently and repeatedly)."
    )

    @OptionGroup var logging: LoggingOptions
    @OptionGroup var database: DatabaseOptions

    @Option(help: "Directory of NNNN_name.sql files (env TASKER_MIGRATIONS_DIR; default: ./migrations or next to the binary).")
    var migrations: String?

    func run() async throws {
        let logger = logging.makeLogger(label: "tasker.migrate", default: .warning)
        guard let directory = migrations.map({ URL(fileURLWithPath: $0) }) ?? Migration.locateDirectory() else {
            throw ValidationError("cannot find the migrations directory; pass --migrations or set TASKER_MIGRATIONS_DIR")
        }
        let files = try Migration.load(from: directory)
        let applied = try await database.withClient(logger: logger) { client in
            try await PostgresMigrator(client: client, logger: logger).migrate(files)
        }
        if applied.isEmpty {
            print("database is up to date (\(files.count) migrations)")
        } else {
            print("applied migrations: \(applied.map(String.init).joined(separator: ", "))")
        }
    }
}
