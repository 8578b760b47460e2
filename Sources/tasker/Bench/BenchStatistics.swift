import Foundation
import TaskerCore

/// Percentiles of a sample of durations in milliseconds.
struct LatencySummary: Sendable {
    let count: Int
    let p50: Double
    let p95: Double
    let p99: Double
    let max: Double

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            let index = min(sorted.count - 1, Int((p / 100 * Double(sorted.count - 1)).rounded()))
            return sorted[index]
        }
        count = sorted.count
        p50 = percentile(50)
        p95 = percentile(95)
        p99 = percentile(99)
        max = sorted.last ?? .nan
    }

    var json: [String: Double] { ["count": Double(count), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "max_ms": max] }

    /// ``json`` as a figure of the benchmark's JSON output.
    var figure: JSONValue { .object(json.mapValues(JSONValue.double)) }
}

/// Peak resident memory of this process (VmHWM), in MiB.
func peakResidentMiB(pid: String = "self", field: String = "VmHWM") -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("\(field):") {
        let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kilobytes / 1024
    }
    return nil
}

/// A printed table: label, value, target; and the targets checked in this run.
struct BenchTable {
    var rows: [(String, String, String)] = []
    private(set) var targets: [BenchTarget] = []

    /// A row; its target column says, for each of `targets`, its bound and whether it was met.
    mutating func add(_ label: String, _ value: String, checking targets: [BenchTarget] = []) {
        self.targets += targets
        rows.append((label, value, targets.map(\.column).joined(separator: "; ")))
    }

    var text: String {
        let width = max(10, rows.map(\.0.count).max() ?? 0)
        let valueWidth = max(20, rows.map(\.1.count).max() ?? 0)
        var lines = ["\("metric".padding(toLength: width, withPad: " ", startingAt: 0)) | \("value".padding(toLength: valueWidth, withPad: " ", startingAt: 0)) | target"]
        lines.append(String(repeating: "-", count: width + valueWidth + 16))
        for (label, value, target) in rows {
            lines.append("\(label.padding(toLength: width, withPad: " ", startingAt: 0)) | \(value.padding(toLength: valueWidth, withPad: " ", startingAt: 0)) | \(target)")
        }
        if !targets.isEmpty { lines.append(targets.summary) }
        return lines.joined(separator: "\n")
    }
}

func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

/// "p50/p99" of `summary`, in milliseconds with two decimals.
func format(_ summary: LatencySummary) -> String { "\(format(summary.p50, 2))/\(format(summary.p99, 2))" }
