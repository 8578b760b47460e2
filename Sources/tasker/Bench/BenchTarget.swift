import Foundation
import TaskerCore

/// One target of the hot-path issue, checked against a figure of this run: the table marks it
/// met or missed, the summary says by how much a missed one is off, and the JSON output lists
/// every target with its value.
struct BenchTarget: Sendable {
    enum Bound: Sendable {
        case atMost(Double)
        case atLeast(Double)
    }

    /// What the summary calls it, e.g. `stage overhead p50`.
    let name: String
    /// What the table's target column calls it beside its row, e.g. `p50` (or nothing).
    let label: String
    let value: Double
    let bound: Bound
    let unit: String

    init(_ name: String, label: String = "", value: Double, _ bound: Bound, unit: String = "") {
        self.name = name
        self.label = label
        self.value = value
        self.bound = bound
        self.unit = unit
    }

    /// The bound's value.
    var limit: Double {
        switch bound {
        case .atMost(let limit), .atLeast(let limit): limit
        }
    }

    var met: Bool {
        switch bound {
        case .atMost: value <= limit
        case .atLeast: value >= limit
        }
    }

    /// The bound as the table prints it, e.g. `<= 3 ms`.
    var requirement: String {
        switch bound {
        case .atMost: "<= \(Self.number(limit))\(unitSuffix)"
        case .atLeast: ">= \(Self.number(limit))\(unitSuffix)"
        }
    }

    /// `met`, or `MISSED by` how far the value is from the bound.
    var verdict: String { met ? "met" : "MISSED by \(Self.number(abs(value - limit)))\(unitSuffix)" }

    /// What the table's target column says, e.g. `p50 <= 3 ms: MISSED by 1.008 ms`.
    var column: String { "\(label.isEmpty ? "" : "\(label) ")\(requirement): \(verdict)" }

    var figure: JSONValue {
        ["name": .string(name), "value": .double(value), "requirement": .string(requirement), "limit": .double(limit), "met": .bool(met)]
    }

    private var unitSuffix: String { unit.isEmpty ? "" : " \(unit)" }

    /// Four significant digits, without trailing zeros: `3000`, `3.5`, `28.61`, `2.943`.
    private static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e9 ? String(Int(value)) : String(format: "%.4g", value)
    }
}

extension Array where Element == BenchTarget {
    /// `targets: 7 of 9 met`, then one line per missed target.
    var summary: String {
        var lines = ["targets: \(filter(\.met).count) of \(count) met"]
        for target in self where !target.met {
            lines.append("  missed: \(target.name) \(format(target.value, 3)) (\(target.requirement), \(target.verdict))")
        }
        return lines.joined(separator: "\n")
    }
}
