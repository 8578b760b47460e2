internal import Foundation

extension JSONValue {
    /// How many arrays and objects enclose the deepest value: 0 for a scalar, 1 for `[]` or
    /// `{"a": 1}`, 2 for `{"a": [1]}`. Computed without recursion, so any value can be measured.
    public var nestingDepth: Int {
        var deepest = 0
        var pending: [(value: JSONValue, depth: Int)] = [(self, 0)]
        while let (value, depth) = pending.popLast() {
            switch value {
            case .array(let elements):
                deepest = max(deepest, depth + 1)
                for element in elements { pending.append((element, depth + 1)) }
            case .object(let members):
                deepest = max(deepest, depth + 1)
                for member in members.values { pending.append((member, depth + 1)) }
            default:
                continue
            }
        }
        return deepest
    }

    /// The error for a value nested deeper than ``InputLimit/nestingDepth``, or `nil`.
    /// - Parameter place: names the value in the message (`'context'`, `results`).
    public func nestingLimitExceeded(place: String) -> InputLimitExceeded? {
        let depth = nestingDepth
        guard depth > InputLimit.nestingDepth.maximum else { return nil }
        return InputLimit.nestingDepth.exceeded(by: depth, in: place)
    }

    /// The error for a value whose canonical JSON is larger than `limit`, or `nil`.
    public func sizeLimitExceeded(_ limit: InputLimit, place: String? = nil) -> InputLimitExceeded? {
        let size = canonicalData().count
        guard size > limit.maximum else { return nil }
        return limit.exceeded(by: size, in: place)
    }
}

/// Measures JSON text without parsing it.
enum JSONText {
    /// The deepest nesting of arrays and objects in `data`, counting brackets outside strings.
    ///
    /// For valid JSON this is exactly the nesting depth the parser will reach; for invalid JSON
    /// it is at least the depth the parser reaches before it fails (both skip strings the same
    /// way), so checking it first bounds the parser's recursion. Linear, no allocation.
    static func nestingDepth(of data: Data) -> Int {
        data.withUnsafeBytes { bytes in
            var depth = 0
            var deepest = 0
            var inString = false
            var escaped = false
            for byte in bytes {
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""):
                    inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    if depth > deepest { deepest = depth }
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if depth > 0 { depth -= 1 }
                default:
                    break
                }
            }
            return deepest
        }
    }
}
