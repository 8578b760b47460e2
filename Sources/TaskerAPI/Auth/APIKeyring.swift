internal import Crypto
internal import Foundation

/// One configured API key: its name, the SHA-256 of the key (never the key itself) and its scopes.
public struct APIKeyEntry: Sendable, Hashable {
    public var name: String
    /// SHA-256 of the key's UTF-8 bytes.
    public var sha256: [UInt8]
    public var scopes: Set<APIScope>

    public init(name: String, sha256: [UInt8], scopes: Set<APIScope>) {
        self.name = name
        self.sha256 = sha256
        self.scopes = scopes
    }

    /// The configuration line for this entry: `NAME sha256:HEX SCOPE,SCOPE`.
    public var line: String {
        "\(name) sha256:\(sha256.map { String(format: "%02x", $0) }.joined()) \(scopes.sorted().map(\.rawValue).joined(separator: ","))"
    }
}

/// The API keys a server accepts, stored hashed.
///
/// Configured as entries `NAME sha256:HEX SCOPES`, one per line (a file) or separated by `;`
/// (an environment variable); `SCOPES` is a comma-separated list or `*`; `#` starts a comment.
/// ``generate(name:scopes:)`` makes a new key and its entry (`tasker api key`).
///
/// A presented key is hashed and compared with every entry in constant time, so neither the
/// answer's timing nor an early exit tells which entry came close.
public struct APIKeyring: Sendable {
    public let entries: [APIKeyEntry]

    public init(_ entries: [APIKeyEntry]) {
        self.entries = entries
    }

    /// The entries in `text`.
    /// - Throws: ``AuthConfigurationError`` naming the entry and what is wrong with it (never
    ///   repeating a value that could be a secret).
    public static func parse(_ text: String, source: String) throws -> [APIKeyEntry] {
        var entries: [APIKeyEntry] = []
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == ";" })
        for (number, rawLine) in lines.enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            if fields.isEmpty { continue }
            let place = "\(source), entry \(number + 1)"
            guard fields.count == 3 else {
                throw AuthConfigurationError("\(place): expected 'NAME sha256:HEX SCOPES', got \(fields.count) field(s)")
            }
            let name = fields[0]
            guard name.count <= 100, name.allSatisfy({ $0.isLetter || $0.isNumber || "._@-".contains($0) }) else {
                throw AuthConfigurationError("\(place): a key name has at most 100 letters, digits and . _ @ -")
            }
            guard fields[1].hasPrefix("sha256:"), let hash = Self.hex(fields[1].dropFirst(7)), hash.count == 32 else {
                throw AuthConfigurationError(
                    "\(place) (\(name)): the second field must be sha256: and 64 hex digits, the key's hash (see `tasker api key`)")
            }
            let scopes = try APIScope.parseList(fields[2])
            guard !scopes.isEmpty else { throw AuthConfigurationError("\(place) (\(name)): no scopes") }
            if entries.contains(where: { $0.name == name }) { throw AuthConfigurationError("\(place): the name \(name) is used twice") }
            if entries.contains(where: { $0.sha256 == hash }) { throw AuthConfigurationError("\(place) (\(name)): the same key is configured twice") }
            entries.append(APIKeyEntry(name: name, sha256: hash, scopes: scopes))
        }
        return entries
    }

    /// The caller the key belongs to, or `nil`.
    public func authenticate(key: String) -> Principal? {
        let digest = Array(SHA256.hash(data: Array(key.utf8)))
        var match: APIKeyEntry?
        for entry in entries where ConstantTime.equal(entry.sha256, digest) {
            match = entry
        }
        return match.map { Principal(name: $0.name, scopes: $0.scopes, method: .apiKey) }
    }

    /// A new random key (`tsk_` and 43 base64url characters: 256 bits) and its entry.
    public static func generate(name: String, scopes: Set<APIScope>) -> (key: String, entry: APIKeyEntry) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let key = "tsk_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return (key, APIKeyEntry(name: name, sha256: Array(SHA256.hash(data: Array(key.utf8))), scopes: scopes))
    }

    private static func hex(_ text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

/// Authentication is configured wrongly; the server does not start.
public struct AuthConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
