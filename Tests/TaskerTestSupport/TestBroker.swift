internal import Foundation
package import TaskerAMQP
package import TaskerCore
internal import TaskerWire

/// The broker URL from `AMQP_URL`, defaulting to the private test node that `ops/start-services` starts.
package let testAMQPURL = ProcessInfo.processInfo.environment["AMQP_URL"] ?? "amqp://tasker:tasker@127.0.0.1:5673/%2f"

/// A configuration for the test broker that notices a lost connection and reconnects quickly.
package func testAMQPConfiguration(name: String = "tasker-tests", heartbeat: Duration = .seconds(5)) throws -> AMQPConfiguration {
    var configuration = try AMQPConfiguration(url: testAMQPURL, connectionName: name)
    configuration.heartbeat = heartbeat
    configuration.reconnect.initialDelay = .milliseconds(200)
    configuration.reconnect.maxDelay = .seconds(2)
    return configuration
}

/// Deletes the queues and exchanges that `TaskerTopology` declares for `topology` and
/// `namespaces` (best effort: what is already gone is skipped).
package func deleteTopology(_ topology: WireTopology, namespaces: [String], on connection: AMQPConnection) async {
    await TaskerTopology.delete(on: connection, topology: topology, namespaces: namespaces)
}
