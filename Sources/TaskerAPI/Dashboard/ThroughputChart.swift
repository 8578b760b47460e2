internal import Foundation
internal import TaskerPostgres

/// Steps completed and failed per minute as a small inline SVG bar chart, drawn by the server:
/// one column per minute, oldest on the left; completions rise above the axis, failures
/// (`error`, solid) and retries (`waiting_for_retry`, hatched) hang below it, on one scale.
/// Position and pattern tell them apart, not only colour; each column has a `<title>` with
/// its numbers, and the page also lists them in a table.
struct ThroughputChart {
    var minutes: [StepOutcomeMinute]

    static let barWidth = 9.0, gap = 2.0, up = 70.0, down = 40.0, left = 40.0, top = 14.0

    var totals: (completed: Int, failed: Int, retried: Int) {
        minutes.reduce((0, 0, 0)) { ($0.0 + $1.completed, $0.1 + $1.failed, $0.2 + $1.retried) }
    }

    func render() -> String {
        let peak = max(1, minutes.map { max($0.completed, $0.failed + $0.retried) }.max() ?? 1)
        let width = Self.left + Double(minutes.count) * (Self.barWidth + Self.gap) + 8
        let height = Self.top + Self.up + Self.down + 22
        let axis = Self.top + Self.up
        let totals = totals
        func scaled(_ count: Int, _ room: Double) -> Double { count == 0 ? 0 : max(2, (Double(count) / Double(peak)) * room) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="throughput" role="img" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" aria-label="steps per minute over the last \(minutes.count) minutes: \
            \(totals.completed) completed, \(totals.failed) failed, \(totals.retried) retried">\
            <defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">\
            <line x1="0" y1="0" x2="0" y2="4" class="hatch"/></pattern></defs>\
            <text x="0" y="\(Self.top + 4)" class="tick">\(peak)/min</text>\
            <text x="0" y="\(axis + 4)" class="tick">0</text>\
            <line x1="\(Self.left - 4)" y1="\(axis)" x2="\(width - 4)" y2="\(axis)" class="axis"/>
            """
        for (index, minute) in minutes.enumerated() {
            let x = Self.left + Double(index) * (Self.barWidth + Self.gap)
            let completed = scaled(minute.completed, Self.up)
            let failed = scaled(minute.failed, Self.down)
            let retried = scaled(minute.retried, Self.down)
            svg += "<g class=\"minute\"><title>\(HTML.escape(Self.clock(minute.minute))): \(minute.completed) completed, "
                + "\(minute.failed) failed, \(minute.retried) retried</title>"
            // The whole column is the hover target, also where there is nothing to draw.
            svg += "<rect class=\"column\" x=\"\(x)\" y=\"\(Self.top)\" width=\"\(Self.barWidth)\" height=\"\(Self.up + Self.down)\"/>"
            if completed > 0 { svg += "<rect class=\"completed\" x=\"\(x)\" y=\"\(axis - completed)\" width=\"\(Self.barWidth)\" height=\"\(completed)\"/>" }
            if failed > 0 { svg += "<rect class=\"failed\" x=\"\(x)\" y=\"\(axis)\" width=\"\(Self.barWidth)\" height=\"\(failed)\"/>" }
            if retried > 0 {
                svg += "<rect class=\"retried\" x=\"\(x)\" y=\"\(axis + failed)\" width=\"\(Self.barWidth)\" height=\"\(retried)\" fill=\"url(#hatch)\"/>"
            }
            svg += "</g>"
        }
        if let first = minutes.first, let last = minutes.last {
            svg += "<text x=\"\(Self.left)\" y=\"\(height - 4)\" class=\"tick\">\(HTML.escape(Self.clock(first.minute)))</text>"
            svg += "<text x=\"\(width - 8)\" y=\"\(height - 4)\" class=\"tick\" text-anchor=\"end\">\(HTML.escape(Self.clock(last.minute))) UTC</text>"
        }
        return svg + "</svg>"
    }

    /// The minutes with any outcome, newest first, as table rows.
    func tableRows() -> String {
        minutes.reversed().filter { $0.completed + $0.failed + $0.retried > 0 }.map { minute in
            "<tr><td>\(HTML.escape(Self.clock(minute.minute)))</td><td>\(minute.completed)</td><td>\(minute.failed)</td><td>\(minute.retried)</td></tr>"
        }.joined()
    }

    /// `HH:MM` in UTC.
    static func clock(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }
}
