import Foundation
import Synchronization
import Testing
import TaskerAPI
import TaskerTestSupport

/// What a process wrote to standard error so far.
final class Output: Sendable {
    let text = Mutex("")
}

extension APITests {
    /// `tasker api` as an OS process: refuses to start without credentials, serves with them,
    /// never logs a secret, and ends cleanly on SIGTERM.
    @Suite struct Process_ {
        static let binary = packageRoot.appendingPathComponent(".build/debug/tasker")

        /// Starts `tasker api` with `environment` added; collects its standard error.
        func launch(_ arguments: [String], environment extra: [String: String]) throws -> (Process, Output) {
            let process = Process()
            process.executableURL = Self.binary
            process.arguments = ["api"] + arguments
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TASKER_API_") }
            environment.merge(extra) { $1 }
            process.environment = environment
            let pipe = Pipe()
            process.standardError = pipe
            let output = Output()
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let text = String(decoding: handle.availableData, as: UTF8.self)
                output.text.withLock { $0 += text }
            }
            try process.run()
            return (process, output)
        }

        @Test func refusesToStartWithoutCredentialsAndSaysSo() async throws {
            #expect(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the tasker binary first (swift build)")
            let (process, output) = try launch(["--port", "0"], environment: [:])
            try await eventually("tasker api to exit", timeout: .seconds(30), every: .milliseconds(100)) { !process.isRunning }
            #expect(process.terminationStatus != 0)
            let log = output.text.withLock { $0 }
            #expect(log.contains("the API does not start"), "\(log)")
            #expect(log.contains("--insecure-open"))
        }

        @Test func servesWithAKeyLogsNoSecretAndStopsOnSIGTERM() async throws {
            // The schema, as a deployment would have it (`tasker migrate`).
            let migrate = Process()
            migrate.executableURL = Self.binary
            migrate.arguments = ["migrate", "--log-level", "warning"]
            try migrate.run()
            try await eventually("tasker migrate to finish", timeout: .seconds(60), every: .milliseconds(100)) { !migrate.isRunning }
            #expect(migrate.terminationStatus == 0)
            let (key, entry) = APIKeyring.generate(name: "process-test", scopes: [.templatesRead])
            let secret = "jwt-secret-" + UUID().uuidString + UUID().uuidString
            let (process, output) = try launch(
                ["--port", "0", "--log-level", "debug"],
                environment: [
                    "TASKER_API_KEYS": entry.line, "TASKER_API_JWT_SECRET": secret,
                    "TASKER_TOPOLOGY_PREFIX": "apiproc-\(UUID().uuidString.prefix(8).lowercased())",
                ])
            defer { if process.isRunning { process.terminate() } }
            let port = try await waitFor("tasker api to listen", timeout: .seconds(60), every: .milliseconds(100)) { () -> Int? in
                let log = output.text.withLock { $0 }
                guard let range = log.range(of: #"http\.port=(\d+)"#, options: .regularExpression) else { return nil }
                return Int(log[range].dropFirst("http.port=".count))
            }
            let client = HTTPTestClient(port: port)
            #expect(try await client.get("/health/live", .none).status == 200)
            #expect(try await client.get("/v1/templates", .bearer(key)).status == 200)
            #expect(try await client.get("/v1/templates", .bearer(key + "x")).status == 401)

            process.terminate()
            try await eventually("tasker api to stop", timeout: .seconds(40), every: .milliseconds(100)) { !process.isRunning }
            #expect(process.terminationReason == .exit && process.terminationStatus == 0)
            let log = output.text.withLock { $0 }
            #expect(log.contains("api stopped"))
            #expect(log.contains("process-test"), "the key's name is logged")
            #expect(!log.contains(key) && !log.contains(secret), "no secret in the log")
        }
    }
}
