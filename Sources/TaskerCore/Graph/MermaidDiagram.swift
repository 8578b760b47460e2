/// A DAG as Mermaid flowchart text (`flowchart TD`), for documentation and the API.
///
/// Nodes get generated ids (`s0`, `s1`, … in declaration order) and their names as quoted
/// labels, so any step name renders, whatever characters it has. Edges run parent → child,
/// in topological order.
///
/// ```swift
/// let text = MermaidDiagram(template.graph).text
/// // flowchart TD
/// //     s0["fetch"]
/// //     s1["square"]
/// //     s0 --> s1
/// ```
public struct MermaidDiagram: Sendable, Hashable {
    /// The diagram source, one statement per line, ending without a newline.
    public let text: String

    /// The diagram of `graph`; `labels[i]` (when given) replaces node `i`'s name as its label.
    public init(_ graph: WorkflowGraph, labels: [String]? = nil) {
        var lines = ["flowchart TD"]
        for node in 0..<graph.count {
            let label = labels.flatMap { node < $0.count ? $0[node] : nil } ?? graph.names[node]
            lines.append("    s\(node)[\"\(Self.escape(label))\"]")
        }
        for child in graph.topologicalOrder {
            for parent in graph.parents[child] {
                lines.append("    s\(parent) --> s\(child)")
            }
        }
        text = lines.joined(separator: "\n")
    }

    /// Mermaid entity codes for the characters that would end or break a quoted label.
    static func escape(_ label: String) -> String {
        var escaped = ""
        for character in label {
            switch character {
            case "#": escaped += "#35;"
            case "\"": escaped += "#quot;"
            case "<": escaped += "#lt;"
            case ">": escaped += "#gt;"
            case "\n", "\r": escaped += " "
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
