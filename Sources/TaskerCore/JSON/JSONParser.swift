internal import Foundation

/// Parses JSON text straight into a ``JSONValue``, one pass over the UTF-8 bytes.
///
/// It replaced parsing through `JSONDecoder` and ``JSONValue``'s `Decodable` conformance, which
/// probed every value as each JSON type in turn (a thrown error per wrong guess) and was the
/// largest CPU cost of the finalizer and the workers. It accepts exactly what that path
/// accepted, and gives the same values (`JSONParserTests` compares both on tricky and random
/// text):
/// - a number without fraction or exponent is an integer when it fits in `Int64`, else a double;
///   a number with either is an integer when its double value is a whole `Int64` (`1.0`, `1e2`),
///   else a double (`Int64.min` spelled with a fraction or exponent stays a double); a number
///   too large for a double is refused;
/// - the first of duplicate object keys wins; a trailing comma before `]` or `}` is accepted;
/// - a UTF-8 byte order mark before the text is skipped;
/// - strings must be valid UTF-8 without raw control characters; `\u` escapes must pair
///   surrogates.
///
/// Nesting is not limited here: callers check ``JSONText/nestingDepth(of:)`` first, which
/// bounds the recursion.
struct JSONParser {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    private init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Parses one JSON value, with optional whitespace around it.
    /// - Throws: ``JSONValue/ParseError`` naming the problem and its byte offset.
    static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw)
            if raw.starts(with: [0xEF, 0xBB, 0xBF]) { parser.offset = 3 }  // a UTF-8 byte order mark
            parser.skipWhitespace()
            let value = try parser.parseValue()
            parser.skipWhitespace()
            guard parser.offset == raw.count else { throw parser.failure("unexpected text after the JSON value") }
            return value
        }
    }

    // MARK: Values

    private mutating func parseValue() throws -> JSONValue {
        guard offset < bytes.count else { throw failure("unexpected end of text") }
        switch bytes[offset] {
        case .openBrace: return try parseObject()
        case .openBracket: return try parseArray()
        case .quote: return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        case .minus, UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw unexpectedCharacter()
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        offset += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek == .closeBracket {
            offset += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            switch peek {
            case .comma:
                offset += 1
                skipWhitespace()
                if peek == .closeBracket {
                    offset += 1
                    return .array(elements)
                }
            case .closeBracket:
                offset += 1
                return .array(elements)
            default:
                throw offset < bytes.count ? unexpectedCharacter(expecting: "',' or ']'") : failure("unexpected end of text in an array")
            }
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        offset += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek == .closeBrace {
            offset += 1
            return .object(members)
        }
        while true {
            guard peek == .quote else {
                throw offset < bytes.count ? unexpectedCharacter(expecting: "a string key") : failure("unexpected end of text in an object")
            }
            let key = try parseString()
            skipWhitespace()
            guard peek == .colon else {
                throw offset < bytes.count ? unexpectedCharacter(expecting: "':'") : failure("unexpected end of text in an object")
            }
            offset += 1
            skipWhitespace()
            let value = try parseValue()
            if members[key] == nil { members[key] = value }
            skipWhitespace()
            switch peek {
            case .comma:
                offset += 1
                skipWhitespace()
                if peek == .closeBrace {
                    offset += 1
                    return .object(members)
                }
            case .closeBrace:
                offset += 1
                return .object(members)
            default:
                throw offset < bytes.count ? unexpectedCharacter(expecting: "',' or '}'") : failure("unexpected end of text in an object")
            }
        }
    }

    private mutating func expect(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard offset + count <= bytes.count,
            memcmp(bytes.baseAddress! + offset, literal.utf8Start, count) == 0
        else { throw unexpectedCharacter() }
        offset += count
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote. Strings without escapes (nearly all)
    /// are validated and copied in one step.
    private mutating func parseString() throws -> String {
        offset += 1
        let start = offset
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == .quote {
                defer { offset += 1 }
                return try makeString(UnsafeRawBufferPointer(rebasing: bytes[start..<offset]))
            }
            if byte == .backslash {
                var decoded = Array(bytes[start..<offset])
                return try parseEscapedString(into: &decoded)
            }
            guard byte >= 0x20 else { throw failure("raw control character in a string") }
            offset += 1
        }
        throw failure("unterminated string")
    }

    private mutating func parseEscapedString(into decoded: inout [UInt8]) throws -> String {
        while offset < bytes.count {
            let byte = bytes[offset]
            switch byte {
            case .quote:
                offset += 1
                return try decoded.withUnsafeBytes { try makeString($0) }
            case .backslash:
                offset += 1
                guard offset < bytes.count else { break }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case .quote, .backslash, UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"): decoded.append(contentsOf: try parseUnicodeEscape())
                default:
                    offset -= 1
                    throw failure("invalid escape '\\\(Character(Unicode.Scalar(escape)))' in a string")
                }
            default:
                guard byte >= 0x20 else { throw failure("raw control character in a string") }
                decoded.append(byte)
                offset += 1
            }
        }
        throw failure("unterminated string")
    }

    /// The UTF-8 bytes of the scalar a `\uXXXX` escape (or a surrogate pair of them) stands for;
    /// `offset` is just after the `u`.
    private mutating func parseUnicodeEscape() throws -> String.UTF8View {
        let first = try parseHex4()
        var scalar: Unicode.Scalar?
        switch first {
        case 0xD800...0xDBFF:
            guard offset + 1 < bytes.count, bytes[offset] == .backslash, bytes[offset + 1] == UInt8(ascii: "u") else {
                throw failure("unpaired surrogate \\u\(String(first, radix: 16)) in a string")
            }
            offset += 2
            let second = try parseHex4()
            guard (0xDC00...0xDFFF).contains(second) else {
                throw failure("unpaired surrogate \\u\(String(first, radix: 16)) in a string")
            }
            scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
        case 0xDC00...0xDFFF:
            throw failure("unpaired surrogate \\u\(String(first, radix: 16)) in a string")
        default:
            scalar = Unicode.Scalar(first)
        }
        guard let scalar else { throw failure("invalid \\u escape in a string") }
        return String(Character(scalar)).utf8
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw failure("incomplete \\u escape in a string") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    private func makeString(_ utf8: UnsafeRawBufferPointer) throws -> String {
        guard let string = String(validating: utf8, as: UTF8.self) else { throw failure("invalid UTF-8 in a string") }
        return string
    }

    // MARK: Numbers

    private mutating func parseNumber() throws -> JSONValue {
        let start = offset
        var negative = false
        if bytes[offset] == .minus {
            negative = true
            offset += 1
        }
        // Integer part: 0, or a non-zero digit and more digits; accumulated as a negative
        // number so Int64.min fits.
        var accumulated: Int64 = 0
        var fits = true
        guard offset < bytes.count, let first = digit(at: offset) else { throw numberFailure(start) }
        offset += 1
        accumulated = -Int64(first)
        if first != 0 {
            while offset < bytes.count, let next = digit(at: offset) {
                if fits {
                    let (times10, overflow1) = accumulated.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times10.subtractingReportingOverflow(Int64(next))
                    if overflow1 || overflow2 { fits = false } else { accumulated = sum }
                }
                offset += 1
            }
        }
        var plain = true
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            plain = false
            offset += 1
            guard offset < bytes.count, digit(at: offset) != nil else { throw numberFailure(start) }
            while offset < bytes.count, digit(at: offset) != nil { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] | 0x20 == UInt8(ascii: "e") {
            plain = false
            offset += 1
            if offset < bytes.count, bytes[offset] == .plus || bytes[offset] == .minus { offset += 1 }
            guard offset < bytes.count, digit(at: offset) != nil else { throw numberFailure(start) }
            while offset < bytes.count, digit(at: offset) != nil { offset += 1 }
        }
        if plain && fits {
            if negative { return .int(accumulated) }
            if accumulated != .min { return .int(-accumulated) }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else {
            throw failure("number \(text) is out of range", at: start)
        }
        if !plain, let integer = Int64(exactly: double), integer != .min { return .int(integer) }
        return .double(double)
    }

    private func digit(at index: Int) -> UInt8? {
        let byte = bytes[index]
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : nil
    }

    private func numberFailure(_ start: Int) -> JSONValue.ParseError {
        failure("malformed number", at: start)
    }

    // MARK: Whitespace and errors

    private var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private func unexpectedCharacter(expecting expected: String? = nil) -> JSONValue.ParseError {
        guard offset < bytes.count else { return failure("unexpected end of text") }
        let byte = bytes[offset]
        let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        return failure("unexpected \(shown)" + (expected.map { ", expected \($0)" } ?? ""))
    }

    private func failure(_ reason: String, at position: Int? = nil) -> JSONValue.ParseError {
        JSONValue.ParseError(reason: "\(reason) at byte \(position ?? offset)")
    }
}

extension UInt8 {
    fileprivate static let quote = UInt8(ascii: "\"")
    fileprivate static let backslash = UInt8(ascii: "\\")
    fileprivate static let openBrace = UInt8(ascii: "{")
    fileprivate static let closeBrace = UInt8(ascii: "}")
    fileprivate static let openBracket = UInt8(ascii: "[")
    fileprivate static let closeBracket = UInt8(ascii: "]")
    fileprivate static let comma = UInt8(ascii: ",")
    fileprivate static let colon = UInt8(ascii: ":")
    fileprivate static let minus = UInt8(ascii: "-")
    fileprivate static let plus = UInt8(ascii: "+")
}
