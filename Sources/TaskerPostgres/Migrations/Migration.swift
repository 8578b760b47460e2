public import Foundation

/// One numbered SQL migration from the `migrations/` directory (`0001_initial_schema.sql`).
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Reads every `NNNN_name.sql` file in `directory`, ordered by number.
    /// - Throws: when a file name has no number or two files share one.
    public static func load(from directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        var migrations: [Migration] = []
        for file in files {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw MigrationError(message: "migration file '\(file)' must be named NNNN_description.sql")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            throw MigrationError(message: "two migrations are numbered \(next.version)")
        }
        return migrations
    }

    /// Finds the migrations directory: `TASKER_MIGRATIONS_DIR`, else a `migrations/` folder in the
    /// working directory or one of its parents, else one next to (or above) the executable.
    public static func locateDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let explicit = environment["TASKER_MIGRATIONS_DIR"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        let starts = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent(),
        ]
        for start in starts {
            var directory = start.standardizedFileURL
            for _ in 0..<8 {
                let candidate = directory.appendingPathComponent("migrations")
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue,
                    (try? FileManager.default.contentsOfDirectory(atPath: candidate.path))?.contains(where: { $0.hasSuffix(".sql") }) == true
                {
                    return candidate
                }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        return nil
    }
}

/// A migration that could not be read or applied.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
