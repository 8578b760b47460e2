internal import Foundation
internal import Hummingbird
internal import NIOCore

/// An `application/x-www-form-urlencoded` body, as the dashboard's forms post it.
struct DashboardForm: Sendable {
    /// Every value of each field, in the order sent (checkboxes repeat their name).
    let fields: [String: [String]]

    init(_ text: String) {
        var fields: [String: [String]] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (part: Substring) in String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            fields[name, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
        self.fields = fields
    }

    /// Reads the request's body (at most 1 MiB).
    static func read(_ request: Request, context: APIRequestContext) async throws -> DashboardForm {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        return DashboardForm(String(buffer: buffer))
    }

    /// The field's value (the last one, when it was sent more than once).
    subscript(_ name: String) -> String? { fields[name]?.last }

    /// Every value sent for the field (a group of checkboxes); empty when none.
    func values(_ name: String) -> [String] { fields[name] ?? [] }

    /// The field trimmed; `nil` when missing or blank.
    func text(_ name: String) -> String? {
        guard let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}
