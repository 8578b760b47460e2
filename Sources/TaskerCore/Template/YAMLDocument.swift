internal import Foundation
internal import Yams

/// Reads YAML text into a ``JSONValue`` tree.
enum YAMLDocument {
    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ text: String) throws(ParseError) -> JSONValue {
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch let error as YamlError {
            throw ParseError(description: "malformed YAML: \(error)")
        } catch {
            throw ParseError(description: "malformed YAML: \(error)")
        }
        guard let loaded else { return .null }
        return try convert(loaded, path: "")
    }

    private static func convert(_ value: Any, path: String) throws(ParseError) -> JSONValue {
        switch value {
        case is NSNull: return .null
        case let value as Bool: return .bool(value)
        case let value as Int: return .int(Int64(value))
        case let value as Double: return .double(value)
        case let value as String: return .string(value)
        case let value as Date: return .string(ISO8601DateFormatter().string(from: value))
        case let value as Data: return .string(value.base64EncodedString())
        case let elements as [Any]:
            var out: [JSONValue] = []
            for (index, element) in elements.enumerated() { out.append(try convert(element, path: "\(path)[\(index)]")) }
            return .array(out)
        case let members as [AnyHashable: Any]:
            var out: [String: JSONValue] = [:]
            for (key, member) in members {
                guard let name = key.base as? String else {
                    throw ParseError(description: "mapping key \(key.base) at \(path.isEmpty ? "top level" : path) must be a string")
                }
                out[name] = try convert(member, path: path.isEmpty ? name : "\(path).\(name)")
            }
            return .object(out)
        case let members as [String: Any]:
            var out: [String: JSONValue] = [:]
            for (name, member) in members { out[name] = try convert(member, path: path.isEmpty ? name : "\(path).\(name)") }
            return .object(out)
        default:
            throw ParseError(description: "unsupported YAML value at \(path.isEmpty ? "top level" : path): \(value)")
        }
    }
}
