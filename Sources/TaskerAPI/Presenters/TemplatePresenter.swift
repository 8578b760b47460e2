internal import Foundation
public import TaskerCore
public import TaskerPostgres

/// Templates as the API's JSON (docs/openapi.yaml: `TemplateSummary`, `TemplateDetail`).
public enum TemplatePresenter {
    public static func summary(_ registered: RegisteredTemplate) -> JSONValue {
        let template = registered.template
        return [
            "namespace": .string(template.namespace), "name": .string(template.name), "version": .string(template.version.description),
            "description": TaskPresenter.optional(template.description), "identity_strategy": .string(template.identityStrategy.rawValue),
            "step_count": .int(Int64(template.steps.count)), "content_hash": .string(template.contentHash),
            "registered_at": APITime.json(registered.registeredAt),
        ]
    }

    /// One version with its steps, its DAG (edges and Mermaid text) and the list of versions.
    public static func detail(_ registered: RegisteredTemplate, versions: [SemanticVersion]) -> JSONValue {
        let template = registered.template
        var object = summary(registered).objectValue ?? [:]
        object["steps"] = .array(template.steps.map { step in
            [
                "name": .string(step.name), "handler": .string(step.handler), "description": TaskPresenter.optional(step.description),
                "depends_on": .array(step.dependsOn.map(JSONValue.string)), "timeout_seconds": .double(step.timeoutSeconds),
                "retry": [
                    "retryable": .bool(step.retry.retryable), "max_attempts": .int(Int64(step.retry.maxAttempts)),
                    "backoff_base_seconds": .double(step.retry.backoff.baseSeconds),
                    "backoff_max_seconds": .double(step.retry.backoff.maxSeconds), "backoff_jitter": .double(step.retry.backoff.jitter),
                ],
            ]
        })
        let graph = template.graph
        object["edges"] = .array(graph.topologicalOrder.flatMap { child in
            graph.parents[child].map { parent in ["from": .string(graph.names[parent]), "to": .string(graph.names[child])] }
        })
        object["roots"] = .array(graph.roots.map { .string(graph.names[$0]) })
        object["leaves"] = .array(graph.leaves.map { .string(graph.names[$0]) })
        object["mermaid"] = .string(MermaidDiagram(graph).text)
        object["context_schema"] = template.contextSchema?.document ?? .null
        object["versions"] = .array(versions.map { .string($0.description) })
        return .object(object)
    }
}
