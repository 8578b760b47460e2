import Foundation
import TaskerCore
import TaskerWorker

/// A directory of template files, removed when the test ends.
struct TemplateDirectory: ~Copyable {
    let url: URL

    init(_ files: [String: String]) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tasker-templates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A namespace unique to one test.
func uniqueNamespace() -> String { "t_" + UUID().uuidString.prefix(8).lowercased() }

/// A two-step template in `namespace` whose steps run `first` then `second`.
func twoStepTemplate(namespace: String, name: String = "pair", version: String = "1.0.0", first: String = "validate", second: String = "ship") -> String {
    """
    name: \(name)
    namespace: \(namespace)
    version: \(version)
    steps:
      - { name: one, handler: \(first) }
      - { name: two, handler: \(second), depends_on: [one] }
    """
}

/// A registry with closure handlers under `names`.
func registry(_ names: [String]) -> HandlerRegistry {
    var registry = HandlerRegistry()
    for name in names { registry.register(name) { _ in [:] } }
    return registry
}
