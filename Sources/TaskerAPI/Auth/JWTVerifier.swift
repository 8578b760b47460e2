internal import Crypto
public import Foundation
internal import TaskerCore

/// Verifies bearer tokens: JWTs signed with HMAC-SHA256 (`HS256`) by a shared secret.
///
/// A token is accepted when its header says `alg: HS256` (any other algorithm, `none`
/// included, is refused), its signature matches (compared in constant time), its `exp` is
/// present and not past, its `nbf` (if any) is not in the future (both with ``leeway``), and,
/// when configured, its `iss` and `aud` match. Its scopes come from a `scopes` claim (a list
/// of strings, or one space-separated string) or an OAuth-style `scope` string; unknown scopes
/// are ignored. The caller's name is its `sub`.
public struct JWTVerifier: Sendable {
    private let key: SymmetricKey
    public let issuer: String?
    public let audience: String?
    /// Clock skew tolerated on `exp` and `nbf`.
    public let leeway: TimeInterval

    /// The shortest secret accepted: 256 bits, the size of the hash (RFC 7518, 3.2).
    public static let minimumSecretBytes = 32
    /// The longest token looked at.
    static let maximumTokenBytes = 8 * 1024

    /// - Throws: ``AuthConfigurationError`` when the secret is shorter than ``minimumSecretBytes``.
    public init(secret: [UInt8], issuer: String? = nil, audience: String? = nil, leeway: TimeInterval = 30) throws {
        guard secret.count >= Self.minimumSecretBytes else {
            throw AuthConfigurationError("the JWT secret must be at least \(Self.minimumSecretBytes) bytes")
        }
        self.key = SymmetricKey(data: secret)
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
    }

    /// Why a token was refused (said to the client: it names no secret).
    public struct Rejection: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Whether `token` has the shape of a JWT (three base64url parts), as opposed to an API key.
    public static func looksLikeJWT(_ token: String) -> Bool {
        token.split(separator: ".", omittingEmptySubsequences: false).count == 3
    }

    /// The caller `token` identifies.
    /// - Throws: ``Rejection`` saying what is wrong with it.
    public func verify(_ token: String, now: Date = Date()) throws(Rejection) -> Principal {
        guard token.utf8.count <= Self.maximumTokenBytes else { throw Rejection("token too long") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.object(parts[0]), let signature = Self.base64URL(parts[2]) else {
            throw Rejection("malformed token")
        }
        guard header["alg"]?.stringValue == "HS256" else { throw Rejection("unsupported token algorithm (only HS256)") }
        guard header["crit"] == nil else { throw Rejection("unsupported critical token header") }
        let signed = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) else {
            throw Rejection("bad token signature")
        }
        guard let claims = Self.object(parts[1]) else { throw Rejection("malformed token claims") }
        guard let exp = claims["exp"]?.doubleValue else { throw Rejection("token has no exp claim") }
        let seconds = now.timeIntervalSince1970
        guard exp + leeway > seconds else { throw Rejection("token expired") }
        if let nbf = claims["nbf"] {
            guard let notBefore = nbf.doubleValue, notBefore - leeway <= seconds else { throw Rejection("token not valid yet") }
        }
        if let issuer, claims["iss"]?.stringValue != issuer { throw Rejection("token issuer not accepted") }
        if let audience {
            let audiences = claims["aud"].map { $0.arrayValue?.compactMap(\.stringValue) ?? [$0.stringValue].compactMap { $0 } } ?? []
            guard audiences.contains(audience) else { throw Rejection("token audience not accepted") }
        }
        let name = claims["sub"]?.stringValue ?? "jwt"
        guard name.count <= 200 else { throw Rejection("token subject too long") }
        return Principal(name: name, scopes: Self.scopes(in: claims), method: .jwt)
    }

    static func scopes(in claims: JSONValue) -> Set<APIScope> {
        var names: [String] = []
        switch claims["scopes"] {
        case .array(let items)?: names = items.compactMap(\.stringValue)
        case .string(let text)?: names = text.split(separator: " ").map(String.init)
        default: break
        }
        if let scope = claims["scope"]?.stringValue { names += scope.split(separator: " ").map(String.init) }
        return Set(names.compactMap { APIScope(rawValue: $0) })
    }

    static func object(_ part: Substring) -> JSONValue? {
        guard let data = base64URL(part), let value = try? JSONValue.parse(Data(data), maxDepth: .messageNestingDepth) else { return nil }
        return value.objectValue == nil ? nil : value
    }

    static func base64URL(_ part: Substring) -> [UInt8]? {
        guard part.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var text = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        return Data(base64Encoded: text).map(Array.init)
    }
}
