import Foundation
import Testing
import TaskerAPI
import TaskerCore
import TaskerTestSupport

/// Every HTTP test runs in this suite, one at a time: each starts a server (and usually a
/// pipeline), and the 2-core machine runs them faster one by one.
@Suite(.serialized, .timeLimit(.minutes(5))) struct APITests {}

extension APITests {
    @Suite struct Authentication {
        @Test func everyAuthFailureIsAnsweredAsSuch() async throws {
            try await APIHarness.run(.init(pipeline: false)) { api async throws in
                let client = api.client
                let now = Date().timeIntervalSince1970

                // No credentials: 401 with a challenge.
                let anonymous = try await client.get("/v1/tasks", .none)
                #expect(anonymous.status == 401)
                #expect(anonymous.errorCode == "unauthorized")
                #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
                #expect(anonymous.json?["details"] == .object([:]))

                // An unknown key, by either header.
                #expect(try await client.get("/v1/tasks", .apiKey("tsk_not-a-key")).status == 401)
                #expect(try await client.get("/v1/tasks", .bearer("tsk_not-a-key")).status == 401)
                // A malformed Authorization header.
                #expect(try await client.get("/v1/tasks", .authorization("Basic dXNlcjpwYXNz")).status == 401)

                // Known key, wrong scope: 403 naming the scope.
                let forbidden = try await client.get("/v1/tasks", .apiKey(api.keys.templates))
                #expect(forbidden.status == 403)
                #expect(forbidden.json?["details"]?["required_scope"] == "tasks:read")
                #expect(try await client.get("/v1/templates", .apiKey(api.keys.reader)).status == 403)
                #expect(try await client.get("/v1/dlq", .apiKey(api.keys.writer)).status == 403)
                #expect(try await client.post("/v1/tasks", .apiKey(api.keys.reader), json: [:]).status == 403)

                // The right key, by either header.
                #expect(try await client.get("/v1/tasks", .apiKey(api.keys.reader)).status == 200)
                #expect(try await client.get("/v1/tasks", .bearer(api.keys.reader)).status == 200)

                // JWTs: valid; expired; bad signature; alg none; no exp; not yet valid; no scope.
                let valid = api.jwt(["sub": "alice", "exp": .double(now + 300), "scopes": ["tasks:read"]])
                #expect(try await client.get("/v1/tasks", .bearer(valid)).status == 200)
                let spaceSeparated = api.jwt(["sub": "alice", "exp": .double(now + 300), "scope": "templates:read tasks:read"])
                #expect(try await client.get("/v1/templates", .bearer(spaceSeparated)).status == 200)

                let expired = try await client.get("/v1/tasks", .bearer(api.jwt(["sub": "alice", "exp": .double(now - 3_600), "scopes": ["tasks:read"]])))
                #expect(expired.status == 401)
                #expect(expired.json?["message"]?.stringValue?.contains("expired") == true)

                let otherSecret = Array(repeating: UInt8(7), count: 32)
                let forged = try await client.get(
                    "/v1/tasks", .bearer(api.jwt(["sub": "mallory", "exp": .double(now + 300), "scopes": ["tasks:read"]], secret: otherSecret)))
                #expect(forged.status == 401)
                #expect(forged.json?["message"]?.stringValue?.contains("signature") == true)

                let claims: JSONValue = ["sub": "mallory", "exp": .double(now + 300), "scopes": ["tasks:read"]]
                let unsigned = APIHarness.base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + APIHarness.base64URL(claims.canonicalData()) + "."
                #expect(try await client.get("/v1/tasks", .bearer(unsigned)).status == 401)
                #expect(try await client.get("/v1/tasks", .bearer(api.jwt(["sub": "alice", "exp": .double(now + 300)], algorithm: "HS512"))).status == 401)
                #expect(try await client.get("/v1/tasks", .bearer(api.jwt(["sub": "alice", "scopes": ["tasks:read"]]))).status == 401)
                #expect(try await client.get(
                    "/v1/tasks", .bearer(api.jwt(["sub": "alice", "nbf": .double(now + 3_600), "exp": .double(now + 7_200), "scopes": ["tasks:read"]]))).status == 401)
                #expect(try await client.get("/v1/tasks", .bearer("a.b.c")).status == 401)

                let noScope = try await client.get("/v1/tasks", .bearer(api.jwt(["sub": "alice", "exp": .double(now + 300), "scopes": ["templates:read"]])))
                #expect(noScope.status == 403)

                // Public routes need nothing; unknown routes are 404 in the error shape (after auth under /v1).
                #expect(try await client.get("/health/live", .none).status == 200)
                #expect(try await client.get("/openapi.yaml", .none).status == 200)
                let missing = try await client.get("/nowhere", .none)
                #expect(missing.status == 404)
                #expect(missing.errorCode == "not_found")
                #expect(try await client.get("/v1/nowhere", .apiKey(api.keys.admin)).status == 404)
            }
        }

        @Test func anOpenServerServesRequestsWithoutCredentialsButStillChecksGivenOnes() async throws {
            try await APIHarness.run(.init(pipeline: false, open: true)) { api async throws in
                #expect(try await api.client.get("/v1/tasks", .none).status == 200)
                #expect(try await api.client.get("/v1/templates", .none).status == 200)
                #expect(try await api.client.get("/v1/tasks", .apiKey("tsk_wrong")).status == 401)
                #expect(try await api.client.get("/v1/tasks", .apiKey(api.keys.templates)).status == 403)
            }
        }
    }
}

/// Authentication configuration and its primitives, without a server.
@Suite struct AuthConfigurationTests {
    @Test func refusesToStartWithoutCredentialsUnlessToldToRunOpen() throws {
        #expect(throws: AuthConfigurationError.self) { try Authenticator.configured(environment: [:]) }
        let open = try Authenticator.configured(environment: [:], insecureOpen: true)
        #expect(open.open)
        #expect(try Authenticator.configured(environment: ["TASKER_API_INSECURE_OPEN": "true"]).open)
        #expect(throws: AuthConfigurationError.self) { try Authenticator.configured(environment: ["TASKER_API_INSECURE_OPEN": "no"]) }
    }

    @Test func keysAreConfiguredHashedWithScopes() throws {
        let (key, entry) = APIKeyring.generate(name: "ci", scopes: [.tasksRead, .tasksWrite])
        #expect(key.hasPrefix("tsk_") && key.count == 47)
        #expect(!entry.line.contains(key))
        let other = APIKeyring.generate(name: "ops", scopes: Set(APIScope.all))
        let authenticator = try Authenticator.configured(environment: ["TASKER_API_KEYS": "\(entry.line); \(other.entry.line) # comment"])
        #expect(authenticator.keyring.entries.count == 2)
        #expect(authenticator.keyring.authenticate(key: key) == Principal(name: "ci", scopes: [.tasksRead, .tasksWrite], method: .apiKey))
        #expect(authenticator.keyring.authenticate(key: other.key)?.scopes == Set(APIScope.all))
        #expect(authenticator.keyring.authenticate(key: key + "x") == nil)
        #expect(!authenticator.summary.contains(key))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try "# API keys\n\(entry.line)\n\n\(other.entry.line.replacingOccurrences(of: "dlq:operate,tasks:operate,tasks:read,tasks:write,templates:read", with: "*"))\n"
            .write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try Authenticator.configured(environment: ["TASKER_API_KEYS_FILE": file.path])
        #expect(fromFile.keyring.authenticate(key: other.key)?.scopes == Set(APIScope.all))
    }

    @Test func malformedConfigurationIsRefusedWithoutEchoingSecrets() throws {
        let secret = "sha256:" + String(repeating: "ab", count: 32)
        for (text, expected) in [
            ("ci \(secret)", "expected 'NAME sha256:HEX SCOPES'"),
            ("ci sha256:abcd tasks:read", "64 hex digits"),
            ("ci \(secret) tasks:fly", "unknown scope 'tasks:fly'"),
            ("c/i \(secret) tasks:read", "a key name has"),
            ("ci \(secret) tasks:read; ci sha256:\(String(repeating: "cd", count: 32)) tasks:read", "used twice"),
            ("a \(secret) tasks:read; b \(secret) tasks:read", "the same key is configured twice"),
        ] {
            do {
                _ = try Authenticator.configured(environment: ["TASKER_API_KEYS": text])
                Issue.record("accepted \(text)")
            } catch let error as AuthConfigurationError {
                #expect(error.description.contains(expected), "\(error)")
                #expect(!error.description.contains(String(repeating: "ab", count: 32)))
            }
        }
        #expect(throws: AuthConfigurationError.self) { try Authenticator.configured(environment: ["TASKER_API_JWT_SECRET": "short"]) }
        #expect(throws: AuthConfigurationError.self) { try Authenticator.configured(environment: ["TASKER_API_KEYS_FILE": "/nonexistent/keys"]) }
        let jwt = try Authenticator.configured(environment: ["TASKER_API_JWT_SECRET": String(repeating: "s", count: 32), "TASKER_API_JWT_AUDIENCE": "tasker"])
        #expect(jwt.jwt?.audience == "tasker")
    }

    @Test func tokensAreCheckedForAudienceIssuerAndLeeway() throws {
        let secret = Array(repeating: UInt8(1), count: 32)
        let verifier = try JWTVerifier(secret: secret, issuer: "idp", audience: "tasker")
        let now = Date()
        let base: [String: JSONValue] = ["sub": "bob", "iss": "idp", "aud": ["other", "tasker"], "scopes": ["tasks:read", "unknown"]]
        func token(_ extra: [String: JSONValue]) -> String { APIHarness.jwt(.object(base.merging(extra) { $1 }), secret: secret) }
        let principal = try verifier.verify(token(["exp": .double(now.timeIntervalSince1970 + 60)]), now: now)
        #expect(principal == Principal(name: "bob", scopes: [.tasksRead], method: .jwt))
        // Within the 30 s leeway, and past it.
        #expect((try? verifier.verify(token(["exp": .double(now.timeIntervalSince1970 - 10)]), now: now)) != nil)
        #expect((try? verifier.verify(token(["exp": .double(now.timeIntervalSince1970 - 60)]), now: now)) == nil)
        #expect((try? verifier.verify(token(["exp": .double(now.timeIntervalSince1970 + 60), "iss": "evil"]), now: now)) == nil)
        #expect((try? verifier.verify(token(["exp": .double(now.timeIntervalSince1970 + 60), "aud": "other"]), now: now)) == nil)
    }
}
