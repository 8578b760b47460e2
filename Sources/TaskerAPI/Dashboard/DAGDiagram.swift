internal import Foundation
internal import TaskerCore

/// A workflow's DAG as inline SVG, laid out server-side by depth: a step's column is the length
/// of the longest path from a root to it; steps of one column are stacked in template order.
///
/// Each node shows the step's name, its state as text with a glyph, and its attempts; the
/// state also decides the node's outline (shape and dash pattern), so colour is never the only
/// cue. Nodes link to the step's panel (`?step=name`) and are keyboard-focusable.
struct DAGDiagram {
    struct Node {
        var name: String
        var parents: [String]
        /// `nil` for a template's DAG (no task yet).
        var state: StepState?
        var attempts: Int?
    }

    var nodes: [Node]
    /// The link of a node, e.g. `?step=name`; `nil`: nodes are not links.
    var link: ((String) -> String)?
    /// The node to outline as selected.
    var selected: String?

    static let width = 170.0, height = 58.0, columnGap = 60.0, rowGap = 22.0, margin = 12.0

    /// The `<svg>` element; an empty string when the steps do not form a DAG.
    func render() -> String {
        guard let graph = try? WorkflowGraph.build(nodes.map { (name: $0.name, dependsOn: $0.parents) }) else { return "" }
        var depth = Array(repeating: 0, count: graph.count)
        for index in graph.topologicalOrder {
            for parent in graph.parents[index] { depth[index] = max(depth[index], depth[parent] + 1) }
        }
        var row = Array(repeating: 0, count: graph.count)
        var filled: [Int: Int] = [:]
        for index in 0..<graph.count {
            row[index] = filled[depth[index], default: 0]
            filled[depth[index], default: 0] += 1
        }
        func origin(_ index: Int) -> (x: Double, y: Double) {
            (Self.margin + Double(depth[index]) * (Self.width + Self.columnGap), Self.margin + Double(row[index]) * (Self.height + Self.rowGap))
        }
        let columns = (depth.max() ?? 0) + 1
        let rows = filled.values.max() ?? 1
        let totalWidth = 2 * Self.margin + Double(columns) * Self.width + Double(columns - 1) * Self.columnGap
        let totalHeight = 2 * Self.margin + Double(rows) * Self.height + Double(rows - 1) * Self.rowGap
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="dag" role="img" aria-label="workflow DAG" \
            width="\(Int(totalWidth))" height="\(Int(totalHeight))" viewBox="0 0 \(Int(totalWidth)) \(Int(totalHeight))">\
            <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">\
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>
            """
        for child in 0..<graph.count {
            for parent in graph.parents[child] {
                let from = origin(parent), to = origin(child)
                let x1 = from.x + Self.width, y1 = from.y + Self.height / 2, x2 = to.x, y2 = to.y + Self.height / 2
                let bend = (x2 - x1) / 2
                svg += "<path class=\"edge\" d=\"M\(x1),\(y1) C\(x1 + bend),\(y1) \(x2 - bend),\(y2) \(x2),\(y2)\" marker-end=\"url(#arrow)\"/>"
            }
        }
        for index in 0..<graph.count {
            let node = nodes[index]
            svg += renderNode(node, at: origin(index))
        }
        return svg + "</svg>"
    }

    private func renderNode(_ node: Node, at point: (x: Double, y: Double)) -> String {
        let state = node.state
        let stateName = state?.rawValue ?? "step"
        let name = HTML.escape(node.name)
        var group = "<g class=\"node st-\(stateName)\(selected == node.name ? " selected" : "")\" data-step=\"\(name)\" data-state=\"\(stateName)\">"
        group += "<title>\(name): \(HTML.escape(state.map(Self.label) ?? "step"))</title>"
        group += Self.shape(state, x: point.x, y: point.y)
        let textX = point.x + 10
        group += "<text x=\"\(textX)\" y=\"\(point.y + 18)\" class=\"node-name\">\(HTML.escape(Self.clip(node.name)))</text>"
        if let state {
            group += "<text x=\"\(textX)\" y=\"\(point.y + 34)\" class=\"node-state\">\(Self.glyph(state)) \(HTML.escape(Self.label(state)))</text>"
        }
        if let attempts = node.attempts {
            group += "<text x=\"\(textX)\" y=\"\(point.y + 50)\" class=\"node-attempts\">attempts: \(attempts)</text>"
        }
        group += "</g>"
        guard let link else { return group }
        return "<a href=\"\(HTML.escape(link(node.name)))\" aria-label=\"step \(name)\">\(group)</a>"
    }

    /// The outline for a state: rounded for done, an octagon for failed, dashed for moving, dotted for waiting.
    static func shape(_ state: StepState?, x: Double, y: Double) -> String {
        let w = width, h = height
        switch state {
        case .error, .waitingForRetry:
            let c = 10.0
            let points = [(x + c, y), (x + w - c, y), (x + w, y + c), (x + w, y + h - c), (x + w - c, y + h), (x + c, y + h), (x, y + h - c), (x, y + c)]
            let dash = state == .waitingForRetry ? " stroke-dasharray=\"6 3\"" : ""
            return "<polygon class=\"shape\" points=\"\(points.map { "\($0.0),\($0.1)" }.joined(separator: " "))\"\(dash)/>"
        case .complete:
            return "<rect class=\"shape\" x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(h)\" rx=\"14\"/>"
        case .resolvedManually:
            return "<rect class=\"shape\" x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(h)\" rx=\"14\"/>"
                + "<rect class=\"shape-inner\" x=\"\(x + 4)\" y=\"\(y + 4)\" width=\"\(w - 8)\" height=\"\(h - 8)\" rx=\"10\"/>"
        case .inProgress, .enqueued:
            let dash = state == .inProgress ? "8 4" : "3 3"
            return "<rect class=\"shape\" x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(h)\" stroke-dasharray=\"\(dash)\"/>"
        case .cancelled:
            return "<rect class=\"shape\" x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(h)\"/>"
                + "<line class=\"strike\" x1=\"\(x)\" y1=\"\(y + h)\" x2=\"\(x + w)\" y2=\"\(y)\"/>"
        case .pending, nil:
            return "<rect class=\"shape\" x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(h)\" rx=\"4\" stroke-dasharray=\"1 3\"/>"
        }
    }

    /// A state as people read it.
    static func label(_ state: StepState) -> String { state.rawValue.replacingOccurrences(of: "_", with: " ") }

    static func glyph(_ state: StepState) -> String {
        switch state {
        case .pending: "○"
        case .enqueued: "…"
        case .inProgress: "▶"
        case .complete: "✓"
        case .waitingForRetry: "↻"
        case .error: "✗"
        case .cancelled: "⊘"
        case .resolvedManually: "✎"
        }
    }

    private static func clip(_ name: String) -> String { name.count > 20 ? String(name.prefix(19)) + "…" : name }
}
