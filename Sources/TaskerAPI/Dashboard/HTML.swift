internal import Foundation

/// HTML-escaped text: every string the dashboard renders from data goes through ``HTML/escape(_:)``.
enum HTML {
    /// Escapes `&`, `<`, `>`, `"` and `'`, for text and for (quoted) attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A query string component, percent-encoded (then HTML-escaped by the caller when in an attribute).
    static func query(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A path segment, percent-encoded.
    static func pathSegment(_ text: String) -> String { query(text) }
}
