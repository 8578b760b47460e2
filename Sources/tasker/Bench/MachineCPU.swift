import Foundation

/// The CPU time the whole machine spent busy (every process: the services, PostgreSQL,
/// RabbitMQ), from `/proc/stat`: a cost per step that depends less on how fast the machine runs
/// at the moment than steps per second do. `nil` where `/proc/stat` cannot be read.
struct MachineCPU {
    /// Seconds of CPU time spent busy (user, nice, system, irq, softirq) and stolen by the host.
    var busySeconds: Double
    var stolenSeconds: Double

    static func now() -> MachineCPU? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { return nil }
        let perSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        // user nice system idle iowait irq softirq steal
        let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
        return MachineCPU(busySeconds: busy / perSecond, stolenSeconds: ticks[7] / perSecond)
    }

    /// Busy milliseconds per step between `start` and `end`.
    static func millisecondsPerStep(from start: MachineCPU?, to end: MachineCPU?, steps: Int) -> Double? {
        guard let start, let end, steps > 0 else { return nil }
        return (end.busySeconds - start.busySeconds) * 1_000 / Double(steps)
    }
}
