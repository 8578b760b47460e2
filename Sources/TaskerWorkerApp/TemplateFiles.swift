import Foundation
public import TaskerCore

/// Template files and directories of `*.yaml` files, loaded and validated.
public enum TemplateFiles {
    /// One file's outcome: its template, or every problem found in it.
    public typealias Outcome = (file: String, result: Result<TaskTemplate, TemplateLoadError>)

    /// Loads every path: a file is one template, a directory every `*.yaml`/`*.yml` file in it
    /// (in name order).
    ///
    /// - Throws: ``WorkerStartupError`` with code `.templates` for a path that does not exist
    ///   or a directory that cannot be read. Template problems are returned, not thrown.
    public static func load(_ paths: [String], with loader: TemplateLoader) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw WorkerStartupError(code: .templates, message: "no such template file or directory: \(path)")
            }
            if isDirectory.boolValue {
                do {
                    outcomes += try loader.loadDirectory(URL(fileURLWithPath: path))
                } catch {
                    throw WorkerStartupError(code: .templates, message: "cannot read template directory \(path): \(error.localizedDescription)")
                }
            } else {
                let url = URL(fileURLWithPath: path)
                outcomes.append((path, Result { () throws(TemplateLoadError) in try loader.load(contentsOf: url) }))
            }
        }
        return outcomes
    }

    /// Loads every path and requires every template to be valid.
    ///
    /// - Throws: ``WorkerStartupError`` with code `.templates`, listing every problem of every file.
    public static func loadValid(_ paths: [String], with loader: TemplateLoader) throws -> [TaskTemplate] {
        var templates: [TaskTemplate] = []
        var problems: [String] = []
        for (file, result) in try load(paths, with: loader) {
            switch result {
            case .success(let template): templates.append(template)
            case .failure(let error): problems += error.problems.map { "  - \($0)" } + (error.problems.isEmpty ? ["  - \(file)"] : [])
            }
        }
        guard problems.isEmpty else {
            throw WorkerStartupError(code: .templates, message: "invalid templates:\n" + problems.joined(separator: "\n"))
        }
        return templates
    }
}
