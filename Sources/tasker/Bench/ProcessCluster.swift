import ArgumentParser
import Foundation

/// The services started as separate processes (`tasker <service>`, and the lean `tasker-worker`
/// when it is built beside it), for figures only separate processes give: each service's
/// resident memory, idle and at its peak.
///
/// They inherit this process's environment (DATABASE_URL, AMQP_URL, ...) plus the benchmark's
/// topology prefix and namespace, so they never touch a running cluster's queues.
final class ProcessCluster {
    struct Member {
        var name: String
        var process: Process
    }

    private(set) var members: [Member] = []

    /// One process to start: a name for the table, the executable and its arguments.
    struct Command {
        var name: String
        var executable: URL
        var arguments: [String]

        /// `tasker <arguments>`, this executable.
        static func tasker(_ name: String, _ arguments: [String]) -> Command {
            Command(name: name, executable: ProcessCluster.thisExecutable, arguments: arguments)
        }
    }

    /// This executable (`tasker`).
    static var thisExecutable: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }

    /// The executable `name` built beside this one (`tasker-worker`), if it is there.
    static func sibling(_ name: String) -> URL? {
        let url = thisExecutable.deletingLastPathComponent().appendingPathComponent(name)
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }

    /// Starts each of `commands`.
    init(commands: [Command], prefix: String, namespace: String) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["TASKER_TOPOLOGY_PREFIX"] = prefix
        environment["TASKER_NAMESPACES"] = namespace
        for command in commands {
            let process = Process()
            process.executableURL = command.executable
            process.arguments = command.arguments + ["--log-level", "warning"]
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            members.append(Member(name: command.name, process: process))
        }
    }

    /// Resident memory of every member now (`VmRSS`) or at its peak so far (`VmHWM`), in MiB.
    func memory(field: String) -> [(name: String, mebibytes: Double)] {
        members.compactMap { member in
            peakResidentMiB(pid: "\(member.process.processIdentifier)", field: field).map { (member.name, $0) }
        }
    }

    /// Whether every member is still running.
    var allRunning: Bool { members.allSatisfy(\.process.isRunning) }

    /// SIGTERM to every member, then waits up to `timeout` for each to exit; returns the
    /// members that did not exit 0.
    func stop(timeout: Duration = .seconds(30)) async -> [String] {
        for member in members where member.process.isRunning { member.process.terminate() }
        let deadline = ContinuousClock.now + timeout
        while members.contains(where: \.process.isRunning), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
        }
        var failed: [String] = []
        for member in members {
            if member.process.isRunning {
                kill(member.process.processIdentifier, SIGKILL)
                failed.append("\(member.name) (killed)")
            } else if member.process.terminationStatus != 0 {
                failed.append("\(member.name) (exit \(member.process.terminationStatus))")
            }
        }
        return failed
    }
}
