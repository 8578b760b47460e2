package import Foundation

/// The package's root directory (where `Package.swift`, `ops/` and `migrations/` are).
package let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs a bash script with `ops/lib.sh` sourced, from the package root; returns its standard output.
///
/// Standard output is read while the script runs, so a long output cannot block it. A script
/// that leaves a background process holding standard output open must redirect it.
@discardableResult
package func opsShell(_ script: String) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", ". ops/lib.sh; " + script]
    process.currentDirectoryURL = packageRoot
    let output = Pipe()
    process.standardOutput = output
    let (exits, exited) = AsyncStream.makeStream(of: Int32.self)
    process.terminationHandler = { process in
        exited.yield(process.terminationStatus)
        exited.finish()
    }
    try process.run()
    let reader = output.fileHandleForReading
    let data: Data = await withCheckedContinuation { continuation in
        // A blocking read: on a thread of its own, not on the cooperative pool.
        Thread.detachNewThread { continuation.resume(returning: reader.readDataToEndOfFile()) }
    }
    var status: Int32 = -1
    for await code in exits { status = code }
    guard status == 0 else { throw OpsScriptFailed(description: "ops script exited with \(status): \(script)") }
    return String(decoding: data, as: UTF8.self)
}

/// Runs `rabbitmqctl` on the private test node through `ops/lib.sh`.
package func rabbitctl(_ arguments: String...) async throws {
    try await opsShell("rabbitctl " + arguments.joined(separator: " "))
}

/// An ops script exited with a non-zero status.
struct OpsScriptFailed: Error, CustomStringConvertible {
    var description: String
}
