public import Foundation
public import HTTPTypes

/// Decides who a request comes from: an API key, a bearer JWT, or nobody.
///
/// Credentials are read from `Authorization: Bearer <key or JWT>` or `X-API-Key: <key>`. A
/// bearer value with three dot-separated parts is a JWT; anything else is an API key. On a
/// server run open (``open``), a request without credentials is the anonymous caller with
/// every scope; credentials that are given are still checked.
public struct Authenticator: Sendable {
    public let keyring: APIKeyring
    public let jwt: JWTVerifier?
    /// Serve requests without credentials (`--insecure-open`).
    public let open: Bool

    public init(keyring: APIKeyring, jwt: JWTVerifier?, open: Bool) {
        self.keyring = keyring
        self.jwt = jwt
        self.open = open
    }

    /// The environment variables that configure authentication (docs/configuration.md).
    public enum Variable {
        public static let keys = "TASKER_API_KEYS"
        public static let keysFile = "TASKER_API_KEYS_FILE"
        public static let jwtSecret = "TASKER_API_JWT_SECRET"
        public static let jwtSecretFile = "TASKER_API_JWT_SECRET_FILE"
        public static let jwtIssuer = "TASKER_API_JWT_ISSUER"
        public static let jwtAudience = "TASKER_API_JWT_AUDIENCE"
        public static let insecureOpen = "TASKER_API_INSECURE_OPEN"
    }

    /// Authentication as the environment configures it.
    ///
    /// - Parameter insecureOpen: `--insecure-open` was given (`TASKER_API_INSECURE_OPEN=true` means the same).
    /// - Throws: ``AuthConfigurationError`` when an entry is malformed, a file cannot be read, the
    ///   JWT secret is too short, or nothing is configured and the server was not told to run open.
    public static func configured(environment: [String: String], insecureOpen: Bool = false) throws -> Authenticator {
        var entries: [APIKeyEntry] = []
        if let text = environment[Variable.keys], !text.isEmpty {
            entries += try APIKeyring.parse(text, source: Variable.keys)
        }
        if let path = environment[Variable.keysFile], !path.isEmpty {
            entries += try APIKeyring.parse(try read(path, variable: Variable.keysFile), source: path)
        }
        let duplicates = Dictionary(grouping: entries, by: \.name).filter { $0.value.count > 1 }.keys
        if let name = duplicates.first { throw AuthConfigurationError("the API key name \(name) is configured twice") }

        var secret = environment[Variable.jwtSecret].flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        if let path = environment[Variable.jwtSecretFile], !path.isEmpty {
            guard secret == nil else { throw AuthConfigurationError("set \(Variable.jwtSecret) or \(Variable.jwtSecretFile), not both") }
            secret = Array(try read(path, variable: Variable.jwtSecretFile).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        }
        let jwt = try secret.map {
            try JWTVerifier(secret: $0, issuer: environment[Variable.jwtIssuer], audience: environment[Variable.jwtAudience])
        }
        let open = insecureOpen || ["1", "true", "yes"].contains(environment[Variable.insecureOpen]?.lowercased() ?? "")
        guard open || !entries.isEmpty || jwt != nil else {
            throw AuthConfigurationError(
                "no API keys and no JWT secret are configured: set \(Variable.keys), \(Variable.keysFile) or \(Variable.jwtSecret) "
                    + "(see docs/api.md), or run the API without authentication on purpose with --insecure-open")
        }
        return Authenticator(keyring: APIKeyring(entries), jwt: jwt, open: open)
    }

    private static func read(_ path: String, variable: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AuthConfigurationError("\(variable): cannot read \(path)")
        }
    }

    /// The caller of a request with these headers.
    /// - Throws: ``APIError`` 401 when credentials are missing (on a closed server) or do not check out.
    public func authenticate(_ headers: HTTPFields, now: Date = Date()) throws(APIError) -> Principal {
        let credential: String
        if let authorization = headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
                throw APIError.unauthorized("the Authorization header must be 'Bearer <API key or token>'")
            }
            credential = String(parts[1]).trimmingCharacters(in: .whitespaces)
        } else if let key = headers[Self.apiKeyHeader] {
            credential = key
        } else if open {
            return Principal(name: "anonymous", scopes: Set(APIScope.all), method: .open)
        } else {
            throw APIError.unauthorized("credentials required: an API key (X-API-Key or Authorization: Bearer) or a bearer token")
        }
        if JWTVerifier.looksLikeJWT(credential) {
            guard let jwt else { throw APIError.unauthorized("bearer tokens are not accepted by this server (no JWT secret configured)") }
            do {
                return try jwt.verify(credential, now: now)
            } catch {
                throw APIError.unauthorized("invalid bearer token: \(error)")
            }
        }
        guard let principal = keyring.authenticate(key: credential) else { throw APIError.unauthorized("unknown API key") }
        return principal
    }

    /// `X-API-Key`.
    public static let apiKeyHeader = HTTPField.Name("X-API-Key")!

    /// A sentence for the start-up log: how requests are authenticated (names and counts, no secrets).
    public var summary: String {
        var parts: [String] = []
        if !keyring.entries.isEmpty { parts.append("\(keyring.entries.count) API key(s): \(keyring.entries.map(\.name).sorted().joined(separator: ", "))") }
        if jwt != nil { parts.append("HS256 bearer tokens") }
        if open { parts.append("requests without credentials allowed with every scope (--insecure-open)") }
        return parts.joined(separator: "; ")
    }
}
